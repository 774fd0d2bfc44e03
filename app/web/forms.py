"""HTML forms into the API's pydantic models, and their errors back beside each field.

A browser sends every value as text; the API's models are strict (a count is a JSON
integer, a time has a UTC offset). `FormSpec` says how each field is read (a number,
a list of lines, a checkbox, a `datetime-local` in UTC), then the same model the API
uses validates it, so the words under a field are the API's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

from app.domain.errors import DomainError

M = TypeVar("M", bound=BaseModel)
_LOCAL_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$")
_DIGITS = re.compile(r"^\s*-?\d{1,10}\s*$")


class FormErrors(Exception):
    """Field name -> message; the page shows each beside its field, and keeps what was typed."""

    def __init__(self, errors: dict[str, str], values: dict[str, Any] | None = None) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        self.values = values or {}


@dataclass(frozen=True)
class FormSpec:
    ints: tuple[str, ...] = ()
    int_lists: tuple[str, ...] = ()  # checkboxes or a multi-select of ids
    multi: tuple[str, ...] = ()  # checkboxes of words (regulatory flags)
    lines: tuple[str, ...] = ()  # a textarea, one item a line
    bools: tuple[str, ...] = ()  # checkboxes
    times: tuple[str, ...] = ()  # datetime-local, read as UTC
    numbers: tuple[str, ...] = ()
    nested: dict[str, tuple[str, ...]] = field(default_factory=dict)  # impact.customers etc.
    keep_empty: tuple[str, ...] = ()  # text fields where "" means "clear", not "unchanged"


def _number(name: str, raw: str, kind: type) -> Any:
    try:
        return kind(raw.strip())
    except ValueError:
        raise FormErrors({name: "must be a number"}) from None


def _value(spec: FormSpec, name: str, form: MultiDict[str, str]) -> Any:
    if name in spec.int_lists:
        return [int(v) for v in form.getlist(name) if _DIGITS.match(v)]
    if name in spec.multi:
        return [v for v in form.getlist(name) if v]
    if name in spec.bools:
        return form.get(name) in {"on", "true", "1", "yes"}
    raw = form.get(name, "")
    if name in spec.lines:
        return [line.strip() for line in raw.splitlines() if line.strip()]
    if raw.strip() == "" and name not in spec.keep_empty:
        return None
    if name in spec.ints:
        return int(raw) if _DIGITS.match(raw) else raw
    if name in spec.numbers:
        return _number(name, raw, float)
    if name in spec.times and _LOCAL_TIME.match(raw.strip()):
        return raw.strip() + "Z"
    return raw


def read(model: type[M], form: MultiDict[str, str], spec: FormSpec | None = None) -> M:
    """The model from the form, or FormErrors naming each wrong field in pydantic's words."""
    spec = spec or FormSpec()
    data: dict[str, Any] = {}
    for name in model.model_fields:
        if name in spec.nested:
            inner = {
                sub: _value(spec, f"{name}.{sub}", form)
                for sub in spec.nested[name]
                if f"{name}.{sub}" in form
            }
            inner = {k: v for k, v in inner.items() if v is not None}
            if inner:
                data[name] = inner
            continue
        listed = name in spec.bools or name in spec.int_lists or name in spec.multi
        if name not in form and not listed:
            continue
        value = _value(spec, name, form)
        if value is not None:
            data[name] = value
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise FormErrors(_messages(exc.errors()), dict(form)) from None


def _messages(errors: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in errors:
        loc = [str(p) for p in err["loc"] if not isinstance(p, int)] or ["form"]
        key = ".".join(loc)
        out.setdefault(key, err["msg"])
    return out


def from_domain(exc: DomainError, values: dict[str, Any] | None = None) -> FormErrors:
    """A service's refusal (an Invalid with field paths, a Conflict) as form errors."""
    errors: dict[str, str] = {}
    for err in exc.errors or []:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query")]
        loc = [p for p in loc if not p.isdigit()]
        errors.setdefault(".".join(loc) or "form", str(err.get("msg", "")))
    if not errors:
        errors["form"] = exc.detail
    return FormErrors(errors, values)
