"""The audit log's entry hashes, by hash version: pure functions of an entry's fields.

Kept apart from `app.audit` (which stores and walks the chain) so the chain's
arithmetic reads on its own. Version 1 is the pre-0006 `json.dumps` form,
kept only to check the entries written then; version 2 hashes canonical JSON.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from typing import Any

from .canonical import canonical


def fields(entry: Any) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.astimezone(UTC).isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_key": entry.entity_key,
        "before": entry.before,
        "after": entry.after,
        "prev": entry.prev_hash,
    }


def _digest_v1(entry: Any) -> str:
    """The pre-0006 hash: kept only to check the entries written then."""
    body = json.dumps(fields(entry), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def digest_v2(entry: Any) -> str:
    return hashlib.sha256(canonical({"v": 2, **fields(entry)})).hexdigest()


DIGESTS = {1: _digest_v1, 2: digest_v2}


def _as_sent(value: Any, big: bool, zero: bool) -> Any:
    """A value as a pre-0006 writer may have hashed it before JSONB re-formed its numbers.

    JSONB hands a float written as `1e+16` or larger back as an integer, and
    `-0.0` as `0.0`; the number is the same, only its form changed, so trying
    those forms hides no edit.
    """
    if isinstance(value, dict):
        return {k: _as_sent(v, big, zero) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_sent(v, big, zero) for v in value]
    if big and type(value) is int and abs(value) >= 10**16 and float(value) == value:
        return float(value)
    if zero and type(value) is float and value == 0:
        return -0.0
    return value


def matches(entry: Any) -> bool:
    """The entry's own hash matches its content (pre-0006 entries: in any form JSONB gave)."""
    if DIGESTS[entry.hash_version](entry) == entry.hash:
        return True
    if entry.hash_version != 1:
        return False
    for big, zero in ((True, False), (False, True), (True, True)):
        values = {**fields(entry)}
        values["before"] = _as_sent(entry.before, big, zero)
        values["after"] = _as_sent(entry.after, big, zero)
        body = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
        if hashlib.sha256(body.encode()).hexdigest() == entry.hash:
            return True
    return False


def digest(entry: Any) -> str:
    """The hash an entry (row or model) should carry, by its hash version."""
    return DIGESTS[entry.hash_version](entry)
