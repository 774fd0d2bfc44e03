"""A small, strict JQL subset: enough for sync jobs, loud about everything else.

Supported: ``AND``/``OR``/``NOT``/parentheses; ``= != ~ !~ > >= < <= in, not in, is [not]``;
``EMPTY``/``NULL``; ``currentUser() now() startOfDay() endOfDay()``; relative dates
(``-15m``, ``-2d``); ``ORDER BY``. Like Jira, text fields only accept ``~``, ``!=``
never matches EMPTY, and unknown fields are a 400 rather than "no results" - so a typo
in production JQL fails here first instead of silently syncing nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .catalog import CATEGORIES
from .model import Issue, JiraApiError, User
from .state import JiraState

Pred = Callable[[Issue], bool]
TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>!=|!~|>=|<=|=|~|>|<)"""
    r"""|(?P<punct>[(),])|(?P<word>[^\s"'(),=!~<>]+))"""
)
ALIASES = {
    "issuekey": "key",
    "id": "key",
    "type": "issuetype",
    "createddate": "created",
    "updateddate": "updated",
    "due": "duedate",
    "resolved": "resolutiondate",
    "statuscategory": "statusCategory",
}
TEXT = {"summary", "description", "text"}
DATES = {"created", "updated", "duedate", "resolutiondate"}
BUILTIN = (
    {
        "project",
        "key",
        "status",
        "statusCategory",
        "labels",
        "assignee",
        "reporter",
        "creator",
        "parent",
        "priority",
        "issuetype",
        "resolution",
    }
    | TEXT
    | DATES
)
EMPTY = object()


@dataclass(frozen=True)
class Query:
    predicate: Pred | None  # None means "unbounded" (no WHERE clause)
    order: list[tuple[str, bool]]  # (field, descending)


def bad(msg: str) -> JiraApiError:
    return JiraApiError(400, [msg])


class _Parser:
    def __init__(self, jql: str, st: JiraState, actor: User | None) -> None:
        self.st, self.actor = st, actor
        self.toks: list[tuple[str, str]] = []
        pos = 0
        while pos < len(jql.rstrip()):
            m = TOKEN.match(jql, pos)
            if not m or m.end() == pos:
                raise bad(f"Error in the JQL Query: unexpected character at position {pos}.")
            kind = m.lastgroup or ""
            self.toks.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else ("eof", "")

    def kw(self, *words: str) -> bool:
        kind, val = self.peek()
        if kind == "word" and val.upper() in words:
            self.i += 1
            return True
        return False

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok[0] == "eof":
            raise bad("Error in the JQL Query: unexpected end of query.")
        self.i += 1
        return tok

    def query(self) -> Query:
        pred = None
        kind, val = self.peek()
        if kind != "eof" and not (kind == "word" and val.upper() == "ORDER"):
            pred = self.or_()
        order: list[tuple[str, bool]] = []
        if self.kw("ORDER"):
            if not self.kw("BY"):
                raise bad("Error in the JQL Query: expected 'by' after 'order'.")
            while True:
                name = self.field_name(self.take()[1])
                desc = self.kw("DESC")
                if not desc:
                    self.kw("ASC")
                order.append((name, desc))
                if self.peek() != ("punct", ","):
                    break
                self.i += 1
        if self.peek()[0] != "eof":
            raise bad(f"Error in the JQL Query: unexpected '{self.peek()[1]}'.")
        return Query(pred, order)

    def or_(self) -> Pred:
        parts = [self.and_()]
        while self.kw("OR"):
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else (lambda i: any(p(i) for p in parts))

    def and_(self) -> Pred:
        parts = [self.not_()]
        while self.kw("AND"):
            parts.append(self.not_())
        return parts[0] if len(parts) == 1 else (lambda i: all(p(i) for p in parts))

    def not_(self) -> Pred:
        if self.kw("NOT"):
            inner = self.not_()
            return lambda i: not inner(i)
        if self.peek() == ("punct", "("):
            self.i += 1
            inner = self.or_()
            if self.take() != ("punct", ")"):
                raise bad("Error in the JQL Query: expected ')'.")
            return inner
        return self.clause()

    def field_name(self, raw: str) -> str:
        name = raw.strip("\"'")
        low = name.lower()
        canon = ALIASES.get(low, low)
        if canon in BUILTIN:
            return canon
        m = re.fullmatch(r"cf\[(\d+)\]", low)
        fid = f"customfield_{m.group(1)}" if m else low
        for f in self.st.catalog.fields:
            if f.custom and (f.id == fid or f.name.lower() == low):
                return f.id
        raise bad(f"Field '{name}' does not exist or you do not have permission to view it.")

    def clause(self) -> Pred:
        name = self.field_name(self.take()[1])
        kind, op = self.peek()
        if kind == "op":
            self.i += 1
        elif self.kw("IN"):
            op = "in"
        elif self.kw("NOT"):
            if not self.kw("IN"):
                raise bad("Error in the JQL Query: expected 'in' after 'not'.")
            op = "not in"
        elif self.kw("IS"):
            op = "is not" if self.kw("NOT") else "is"
        else:
            raise bad(f"Error in the JQL Query: expected an operator after '{name}'.")
        values = self.values() if op in ("in", "not in") else [self.value()]
        return make_predicate(self.st, name, op, values)

    def values(self) -> list[Any]:
        if self.take() != ("punct", "("):
            raise bad("Error in the JQL Query: expected '(' after 'in'.")
        out = [self.value()]
        while self.peek() == ("punct", ","):
            self.i += 1
            out.append(self.value())
        if self.take() != ("punct", ")"):
            raise bad("Error in the JQL Query: expected ')'.")
        return out

    def value(self) -> Any:
        kind, raw = self.take()
        if kind == "str":
            return re.sub(r"\\(.)", r"\1", raw[1:-1])
        if kind != "word":
            raise bad(f"Error in the JQL Query: unexpected '{raw}'.")
        if raw.upper() in ("EMPTY", "NULL"):
            return EMPTY
        if self.peek() == ("punct", "(") and self.peek(1) == ("punct", ")"):
            self.i += 2
            return self.function(raw)
        return raw

    def function(self, name: str) -> Any:
        now = self.st.clock()
        fn = name.lower()
        if fn == "currentuser":
            return self.actor.account_id if self.actor else EMPTY
        if fn == "now":
            return now
        if fn == "startofday":
            return now.replace(hour=0, minute=0, second=0, microsecond=0)
        if fn == "endofday":
            return now.replace(hour=23, minute=59, second=59, microsecond=999000)
        raise bad(f"Error in the JQL Query: unsupported function '{name}()'.")


def identities(st: JiraState, issue: Issue, name: str) -> list[str]:
    """All spellings a JQL literal may use for the issue's value(s), lower-cased."""
    v = issue.values
    if name == "project":
        p = st.project(issue.project_id)
        return [p.key, p.id, p.name]
    if name == "key":
        return [issue.key, str(issue.id)]
    if name == "status":
        s = st.status(issue.status_id)
        return [s.name, s.id]
    if name == "statusCategory":
        c = CATEGORIES[st.status(issue.status_id).category]
        return [c.key, c.name, str(c.id)]
    if name == "labels":
        return list(v.get("labels") or [])
    if name in ("assignee", "reporter", "creator"):
        u = st.users_by_id.get(issue.creator if name == "creator" else v.get(name) or "")
        return [u.account_id, u.name, u.key, u.email, u.display_name] if u else []
    if name == "priority":
        return [st.priority(v["priority"]).name, v["priority"]] if v.get("priority") else []
    if name == "issuetype":
        t = st.issue_type(issue.issuetype_id)
        return [t.name, t.id]
    if name == "parent":
        parent = st.issues_by_id.get(v.get("parent") or 0)
        return [parent.key, str(parent.id)] if parent else []
    if name == "resolution":
        return (
            [st.resolution(issue.resolution_id).name, issue.resolution_id]
            if issue.resolution_id
            else []
        )
    f = st.field(name)
    raw = v.get(name)
    if f.kind == "select":
        return [o.value for o in f.options if o.id == raw] + ([raw] if raw else [])
    return [str(raw)] if raw not in (None, "") else []


def text_of(st: JiraState, issue: Issue, name: str) -> str:
    if name == "text":
        parts = [issue.values.get("summary"), issue.values.get("description")]
        parts += [c.body for c in issue.comments]
        parts += [
            str(issue.values.get(f.id) or "")
            for f in st.catalog.fields
            if f.custom and f.kind == "string"
        ]
        return " ".join(p for p in parts if p)
    return str(issue.values.get(name) or "")


def text_match(doc: str, query: str) -> bool:
    words = re.findall(r"[a-z0-9]+", doc.lower())
    terms = re.findall(r"[a-z0-9]+\*?", query.lower())
    return bool(terms) and all(
        any(w.startswith(t[:-1]) if t.endswith("*") else w == t for w in words) for t in terms
    )


def to_time(st: JiraState, value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    s = str(value).strip()
    rel = re.fullmatch(r"([-+]?)(\d+)([wdhm])", s)
    if rel:
        unit = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}[rel.group(3)]
        delta = dt.timedelta(**{unit: int(rel.group(2))})
        return st.clock() + (-delta if rel.group(1) == "-" else delta)
    for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(s, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    raise bad(
        f"Date value '{s}' for field is invalid. Valid formats include: "
        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a "
        "period format e.g. '-5d', '4w 2d'."
    )


def date_of(issue: Issue, name: str) -> dt.datetime | None:
    if name == "duedate":
        d = issue.values.get("duedate")
        return dt.datetime.fromisoformat(d).replace(tzinfo=dt.UTC) if d else None
    return {
        "created": issue.created,
        "updated": issue.updated,
        "resolutiondate": issue.resolution_date,
    }[name]


def make_predicate(st: JiraState, name: str, op: str, values: list[Any]) -> Pred:
    is_text = name in TEXT or (name.startswith("customfield_") and st.field(name).kind == "string")
    allowed = (
        {"~", "!~", "is", "is not"} if is_text else {"=", "!=", "in", "not in", "is", "is not"}
    )
    if name in DATES:
        allowed |= {">", ">=", "<", "<="}
    if op not in allowed:
        raise bad(f"The operator '{op}' is not supported by the '{name}' field.")
    if op in ("is", "is not"):
        if values[0] is not EMPTY:
            raise bad(f"The operator '{op}' only supports EMPTY or NULL.")

        def empty(i: Issue) -> bool:
            if name in DATES:
                return date_of(i, name) is None
            return not (text_of(st, i, name) if is_text else identities(st, i, name))

        return empty if op == "is" else (lambda i: not empty(i))
    if is_text:
        q = str(values[0])
        return (
            (lambda i: text_match(text_of(st, i, name), q))
            if op == "~"
            else (lambda i: not text_match(text_of(st, i, name), q))
        )
    if name in DATES:
        return _date_pred(st, name, op, values)
    if name == "resolution":
        values = [EMPTY if str(x).lower() == "unresolved" else x for x in values]
    wanted = {str(x).lower() for x in values if x is not EMPTY}
    want_empty = any(x is EMPTY for x in values)

    def hit(i: Issue) -> bool:
        ids = {x.lower() for x in identities(st, i, name)}
        return bool(ids & wanted) or (want_empty and not ids)

    if op in ("=", "in"):
        return hit
    # Jira's != and "not in" never match issues where the field is EMPTY.
    return lambda i: bool(identities(st, i, name)) and not hit(i)


def _date_pred(st: JiraState, name: str, op: str, values: list[Any]) -> Pred:
    points = [to_time(st, x) for x in values if x is not EMPTY]
    cmp: dict[str, Callable[[dt.datetime, dt.datetime], bool]] = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        "in": lambda a, b: a == b,
        "not in": lambda a, b: a != b,
    }
    agg = all if op in ("!=", "not in") else any

    def pred(i: Issue) -> bool:
        d = date_of(i, name)
        return d is not None and agg(cmp[op](d, p) for p in points)

    return pred


def sort_key(st: JiraState, issue: Issue, name: str) -> Any:
    if name == "key":
        p = st.project(issue.project_id)
        return (p.key, int(issue.key.rsplit("-", 1)[1]))
    if name in DATES:
        return date_of(issue, name)
    if name == "priority":
        pid = issue.values.get("priority")
        return -int(pid) if pid else None  # id 1 is Highest, so DESC puts it first
    ids = identities(st, issue, name) if name not in TEXT else [text_of(st, issue, name)]
    return ids[0].lower() if ids else None


def run(jql: str, st: JiraState, actor: User | None) -> tuple[Query, list[Issue]]:
    """Parse, filter and order; the default order (newest first) keeps paging stable."""
    q = _Parser(jql or "", st, actor).query()
    found = [
        i
        for i in st.issues_by_id.values()
        if st.indexed(i) and (q.predicate is None or q.predicate(i))
    ]
    found.sort(key=lambda i: -i.id)
    for name, desc in reversed(q.order):
        present = [i for i in found if sort_key(st, i, name) is not None]
        missing = [i for i in found if sort_key(st, i, name) is None]
        present.sort(key=lambda i: sort_key(st, i, name), reverse=desc)
        found = present + missing
    return q, found
