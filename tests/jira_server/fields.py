"""Validation of ``fields``/``update`` payloads, with Jira's error wording.

A test double that accepts anything hides the bugs that bite in production (unknown
field ids, priority names that do not exist, labels with spaces, assignee by name on
Cloud), so this module rejects what a real site rejects and collects *all* field errors
into one 400, as Jira does.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .adf import adf_to_text, is_adf
from .model import FieldDef, JiraApiError, Mode

if TYPE_CHECKING:
    from .state import JiraState


class FieldError(Exception):
    """A message for ``errors[field_id]``."""


def not_settable(fid: str) -> str:
    return f"Field '{fid}' cannot be set. It is not on the appropriate screen, or unknown."


@dataclass
class ParsedEdit:
    values: dict[str, Any] = field(default_factory=dict)  # field id -> new stored value
    label_ops: list[tuple[str, str]] = field(default_factory=list)  # (add|remove, label)
    comments: list[str] = field(default_factory=list)
    links: list[tuple[str, int, bool]] = field(
        default_factory=list
    )  # type, other, other-is-outward


def parse_value(f: FieldDef, raw: Any, st: JiraState, api: str) -> Any:
    kind = f.kind
    if kind == "string":
        if raw is None and f.id != "summary":
            return None
        if not isinstance(raw, str):
            raise FieldError("Operation value must be a string")
        if f.id == "summary":
            if not raw.strip():
                raise FieldError("You must specify a summary of the issue.")
            if "\n" in raw or "\r" in raw:
                raise FieldError("The summary is invalid because it contains newline characters.")
        if len(raw) > 255:
            raise FieldError(f"{f.name} must be less than 255 characters.")
        return raw
    if kind == "text":
        if raw is None:
            return None
        if api == "3":
            if not is_adf(raw):
                raise FieldError(
                    "Operation value must be an Atlassian Document "
                    "(see the Atlassian Document Format)"
                )
            return adf_to_text(raw)
        if not isinstance(raw, str):
            raise FieldError("Operation value must be a string")
        return raw
    if kind == "priority":
        return _parse_priority(raw, st)
    if kind == "labels":
        if not isinstance(raw, list):
            raise FieldError("data was not an array")
        return [_parse_label(x) for x in raw]
    if kind == "user":
        return _parse_user(f, raw, st)
    if kind == "date":
        return _parse_date(raw)
    if kind == "select":
        return _parse_option(f, raw)
    if kind == "parent":
        ref = raw if isinstance(raw, dict) else {}
        parent = st.find_issue(str(ref.get("key") or ref.get("id") or ""))
        if parent is None:
            raise FieldError("Could not find issue by id or key.")
        return parent.id
    raise FieldError(not_settable(f.id))


def _parse_priority(raw: Any, st: JiraState) -> str:
    if not isinstance(raw, dict) or not ({"id", "name"} & raw.keys()):
        raise FieldError("Could not find valid 'id' or 'name' in priority object.")
    for p in st.catalog.priorities:
        if p.id == str(raw.get("id")) or p.name == raw.get("name"):
            return p.id
    if "id" in raw:
        raise FieldError(f"Specify a valid 'id' or 'name' for Priority (id '{raw['id']}').")
    raise FieldError(f"Priority name '{raw['name']}' is not valid")


def _parse_label(raw: Any) -> str:
    if not isinstance(raw, str) or not raw:
        raise FieldError("Label must be a non-empty string.")
    if any(c.isspace() for c in raw):
        raise FieldError(f"The label '{raw}' contains spaces which is invalid.")
    if len(raw) > 255:
        raise FieldError("The label must not exceed 255 characters.")
    return raw


def _parse_user(f: FieldDef, raw: Any, st: JiraState) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise FieldError(f"expected Object for {f.id}")
    if st.mode == "cloud":
        if "accountId" not in raw:
            raise FieldError(
                f"Specify the {f.id} by 'accountId'; 'name' and 'key' are not "
                "supported on Jira Cloud (GDPR strict mode)."
            )
        if raw["accountId"] is None:
            # Cloud refuses a user object without an id in a field (issue 12 measured it;
            # jira.js #361 reports the same); `"assignee": null` is how a field unassigns.
            # Only PUT /issue/{key}/assignee takes {"accountId": null} (`ops.assign`).
            raise FieldError(f"Specify a valid value for {f.id}")
        u = st.users_by_id.get(str(raw["accountId"]))
        if u is None:
            raise FieldError(f"Specify a valid value for {f.id}")
        return u.account_id
    ident = raw.get("name", raw.get("key"))
    if ident is None and ("name" in raw or "key" in raw):
        return None
    u = next((x for x in st.users if ident in (x.name, x.key)), None)
    if u is None:
        raise FieldError(f"User '{ident}' does not exist.")
    return u.account_id


def _parse_date(raw: Any) -> str | None:
    if raw is None:
        return None
    try:
        if isinstance(raw, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):  # yyyy-MM-dd only
            return dt.date.fromisoformat(raw).isoformat()
    except ValueError:
        pass
    raise FieldError(f"Error parsing date string: {raw}")


def _parse_option(f: FieldDef, raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise FieldError(f"Could not find valid 'id' or 'value' in the {f.name} object.")
    for o in f.options:
        if o.id == str(raw.get("id")) or o.value == raw.get("value"):
            return o.id
    bad = raw.get("value", raw.get("id"))
    raise FieldError(f"Option value '{bad}' is not valid")


def parse_comment_body(comment: Any, api: str) -> str:
    """``{"body": ...}``: a string on v2, an ADF document on v3 (plain text is a 400 there)."""
    body = comment.get("body") if isinstance(comment, dict) else None
    if api == "3":
        if not is_adf(body):
            raise FieldError(
                "Comment body is not valid! Operation value must be an "
                "Atlassian Document (see the Atlassian Document Format)"
            )
        body = adf_to_text(body)
    if not isinstance(body, str) or not body.strip():
        raise FieldError("Comment body can not be empty!")
    return body


def display(f: FieldDef, stored: Any, st: JiraState, mode: Mode) -> tuple[str | None, str | None]:
    """(raw, human) pair for a changelog ``from``/``fromString`` (or ``to``/``toString``)."""
    if stored is None or stored == []:
        return None, None
    if f.kind == "priority":
        return stored, st.priority(stored).name
    if f.kind == "labels":
        return None, " ".join(stored)
    if f.kind == "user":
        u = st.users_by_id[stored]
        return (u.account_id if mode == "cloud" else u.key), u.display_name
    if f.kind == "date":
        return stored, f"{stored} 00:00:00.0"
    if f.kind == "select":
        return stored, next(o.value for o in f.options if o.id == stored)
    if f.kind == "parent":
        parent = st.issues_by_id.get(stored)
        return str(stored), parent.key if parent else None
    return None, str(stored)


def parse_edit(
    st: JiraState,
    payload: dict[str, Any],
    *,
    screen: dict[str, bool],
    api: str,
    creating: bool,
    self_id: int | None = None,
) -> ParsedEdit:
    """Turn ``{"fields":..., "update":...}`` into a ParsedEdit or raise one Jira 400."""
    out = ParsedEdit()
    errors: dict[str, str] = {}
    fields = payload.get("fields") or {}
    update = payload.get("update") or {}
    if not isinstance(fields, dict) or not isinstance(update, dict):
        raise JiraApiError(400, ["Can not deserialize instance of object out of START_ARRAY"])
    for fid, raw in fields.items():
        if creating and fid in ("project", "issuetype"):
            continue
        _set(st, out, errors, screen, fid, raw, api)
    for fid, ops in update.items():
        if not isinstance(ops, list):
            errors[fid] = "data was not an array"
            continue
        for op in ops:
            _apply_op(st, out, errors, screen, fid, op, api, self_id)
    # On create every required field must be present; on edit it must not be cleared.
    for fid in screen if creating else out.values:
        if screen.get(fid) and fid not in ("project", "issuetype") and _missing(out, fid):
            msg = "You must specify a summary of the issue." if fid == "summary" else None
            errors.setdefault(fid, msg or f"{st.field(fid).name} is required.")
    if errors:
        raise JiraApiError(400, errors=errors)
    return out


def _missing(out: ParsedEdit, fid: str) -> bool:
    if fid == "labels":
        return not out.values.get("labels") and not any(op == "add" for op, _ in out.label_ops)
    return out.values.get(fid) in (None, "", [])


def _set(
    st: JiraState,
    out: ParsedEdit,
    errors: dict[str, str],
    screen: dict[str, bool],
    fid: str,
    raw: Any,
    api: str,
) -> None:
    f = st.field_or_none(fid)
    if f is None or fid not in screen or f.kind in ("readonly", "issuelinks"):
        errors[fid] = not_settable(fid)
        return
    try:
        out.values[fid] = parse_value(f, raw, st, api)
    except FieldError as e:
        errors[fid] = str(e)


def _apply_op(
    st: JiraState,
    out: ParsedEdit,
    errors: dict[str, str],
    screen: dict[str, bool],
    fid: str,
    op: Any,
    api: str,
    self_id: int | None,
) -> None:
    if not isinstance(op, dict) or len(op) != 1:
        errors[fid] = "Each update operation must be an object with exactly one verb."
        return
    verb, arg = next(iter(op.items()))
    if fid == "comment" and verb == "add":
        try:
            out.comments.append(parse_comment_body(arg, api))
        except FieldError as e:
            errors["comment"] = str(e)
    elif fid == "issuelinks" and verb == "add" and fid in screen:
        _parse_link(st, out, errors, arg, self_id)
    elif fid == "labels" and verb in ("add", "remove") and fid in screen:
        try:
            out.label_ops.append((verb, _parse_label(arg)))
        except FieldError as e:
            errors[fid] = str(e)
    elif verb == "set":
        _set(st, out, errors, screen, fid, arg, api)
    elif st.field_or_none(fid) is None or fid not in screen:
        errors[fid] = not_settable(fid)
    else:
        errors[fid] = f"Field '{fid}' does not support operation '{verb}'"


def _parse_link(
    st: JiraState, out: ParsedEdit, errors: dict[str, str], arg: Any, self_id: int | None
) -> None:
    if not isinstance(arg, dict):
        errors["issuelinks"] = "Issue link must be an object."
        return
    lt = st.find_link_type(arg.get("type") or {})
    if lt is None:
        errors["issuelinks"] = "No issue link type with name or id specified."
        return
    side = "outwardIssue" if "outwardIssue" in arg else "inwardIssue"
    ref = arg.get(side) or {}
    other = st.find_issue(str(ref.get("key") or ref.get("id") or ""))
    if other is None or other.id == self_id:
        errors["issuelinks"] = "Linked issue does not exist or you do not have permission."
        return
    out.links.append((lt.id, other.id, side == "outwardIssue"))
