"""Atlassian Document Format, just enough to be honest about REST v3.

Jira Cloud's v3 API returns and *requires* ADF for rich-text fields (description,
comment bodies) while v2 speaks plain strings. Code that sends a plain string to v3
gets a 400 from a real site, so it gets one here too.
"""

from __future__ import annotations

from typing import Any, TypeGuard


def text_to_adf(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    paragraphs = text.split("\n\n") if text else []
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": p}] if p else []}
            for p in paragraphs
        ],
    }


def is_adf(value: object) -> TypeGuard[dict[str, Any]]:
    return isinstance(value, dict) and value.get("type") == "doc" and "content" in value


def adf_to_text(doc: dict[str, Any]) -> str:
    """Flatten to text; block nodes become paragraphs so round-trips stay stable."""
    blocks: list[str] = []
    for node in doc.get("content", []):
        blocks.append(_inline_text(node))
    return "\n\n".join(blocks)


def _inline_text(node: dict[str, Any]) -> str:
    if node.get("type") == "text":
        return str(node.get("text", ""))
    if node.get("type") == "hardBreak":
        return "\n"
    return "".join(_inline_text(child) for child in node.get("content", []))
