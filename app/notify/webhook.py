"""Slack-compatible incoming webhooks: one JSON POST with `text` (and blocks for Slack)."""

from __future__ import annotations

from typing import Any

import requests

from .message import DeliveryError, Message


def payload(message: Message) -> dict[str, Any]:
    """`text` is what every Slack-compatible receiver reads (Mattermost, Rocket.Chat, Teams
    workflows); the blocks give Slack a heading and a button to the action."""
    text = f"*{message.subject}*\n{message.text}"
    if message.link:
        text += f"\n<{message.link}|Open in Hindsight>"
    body: dict[str, Any] = {
        "text": text,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": message.subject[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": message.text[:3000]}},
        ],
    }
    if message.link:
        body["blocks"].append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in Hindsight"},
                        "url": message.link,
                    }
                ],
            }
        )
    if message.channel_name:
        body["channel"] = message.channel_name
    return body


class WebhookChannel:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    def send(self, recipient: str, message: Message) -> str:
        try:
            resp = requests.post(recipient, json=payload(message), timeout=self.timeout)
        except requests.RequestException as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}", transient=True) from exc
        if resp.status_code >= 400:
            transient = resp.status_code == 429 or resp.status_code >= 500
            detail = resp.text[:200].strip()
            raise DeliveryError(f"HTTP {resp.status_code}: {detail}", transient=transient)
        return f"HTTP {resp.status_code}"
