"""Append-only, hash-chained audit log.

Each entry's hash covers its own content and the previous entry's hash, and
the head row records the last sequence number, so editing, deleting or
truncating any entry breaks verification at a precise place. A rewrite that
re-hashes every later entry and moves the head, or a truncation that moves
the head, is internally consistent: only an anchor outside the database
catches it, a signed checkpoint of (seq, hash) that an auditor holds
(`app/services/checkpoints.py` signs and reads them; `verify` is handed the
ones whose signature already checked out).

Hash versions: version 1 (entries written before migration 0006) hashed
`json.dumps` of the values, which PostgreSQL's JSONB does not hand back in
the same form (1e20 comes back as an integer); version 2 hashes the
canonical JSON of `app.domain.canonical`, which survives every database's
round trip. Old entries are still checked their own way, so the migration
breaks no chain; once a version 2 entry exists, a version 1 entry after it
is reported (a downgrade is not a thing Hindsight does).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, NotRequired, TypedDict, Unpack
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Table, bindparam, select, text
from sqlalchemy.orm import Session

from .domain.audit_hash import DIGESTS, digest_v2, matches
from .domain.audit_hash import digest as digest  # re-exported: callers hash with audit.digest
from .domain.canonical import json_native
from .models import AuditEntry, AuditHead

GENESIS = "0" * 64
HASH_VERSION = 2
_HEAD_TABLE: Table = AuditHead.__table__  # type: ignore[assignment]
_READ_HEAD = select(_HEAD_TABLE.c.last_seq, _HEAD_TABLE.c.last_hash).where(_HEAD_TABLE.c.id == 1)
_ENTRY_TABLE: Table = AuditEntry.__table__  # type: ignore[assignment]
_INSERT = _ENTRY_TABLE.insert()
# Written before it is read, in one UPDATE ... RETURNING: on SQLite the driver opens the write
# transaction only at the first write, so a head read first could be stale by the time the
# entry is inserted (two writers, one seq: a UNIQUE failure). On PostgreSQL the update takes
# the row lock and returns the row as the previous writer committed it.
_TAKE_HEAD = (
    _HEAD_TABLE.update()
    .where(_HEAD_TABLE.c.id == 1)
    .values(last_seq=_HEAD_TABLE.c.last_seq)
    .returning(_HEAD_TABLE.c.last_seq, _HEAD_TABLE.c.last_hash)
)
_MOVE_HEAD = (
    _HEAD_TABLE.update()
    .where(_HEAD_TABLE.c.id == 1)
    .values(last_seq=bindparam("seq"), last_hash=bindparam("hash"))
)


def _stored_form(value: Any) -> Any:
    """What a JSON column hands back: the value after a JSON round trip.

    The hash is computed from this, not from what the caller passed (a
    tuple, a date, a Decimal): canonical JSON then makes the remaining
    differences between databases (number forms, key order) vanish.
    """
    if value is None or json_native(value):
        return value  # already what the round trip would give: spare the dumps and loads
    return json.loads(json.dumps(value, default=str, sort_keys=True))


class Entry(TypedDict):
    """One entry to append: `record_many` appends several under one take of the head."""

    actor: str
    action: str
    entity_type: str
    entity_key: str
    before: NotRequired[dict[str, Any] | None]
    after: NotRequired[dict[str, Any] | None]


def record(session: Session, **entry: Unpack[Entry]) -> None:
    """Append one entry inside the caller's transaction (locks the head row)."""
    record_many(session, [entry])


def record_many(session: Session, entries: list[Entry]) -> None:
    """Append entries in order inside the caller's transaction: one head lock, one insert.

    Each entry's hash still covers its content and the previous entry's hash,
    computed here in order, so the chain is the one `record` would have written
    one by one. A batch costs two statements however long it is when this
    process wrote the head last (the usual case: see `_move_from_guess`), four
    when another writer moved it since.
    """
    if not entries:
        return
    engine = session.get_bind().engine
    guess = _last_head.get(engine)
    rows = _chained(entries, *guess) if guess is not None else None
    if rows is not None and guess is not None and not _move_from_guess(session, guess, rows[-1]):
        rows = None
    if rows is None:
        seq, prev = session.execute(_TAKE_HEAD).one()
        rows = _chained(entries, seq, prev)
        session.execute(_MOVE_HEAD, {"seq": rows[-1]["seq"], "hash": rows[-1]["hash"]})
    session.execute(_INSERT, rows)  # Core, one executemany: the ORM would cost more than it
    _last_head[engine] = (rows[-1]["seq"], rows[-1]["hash"])


# The head as this process last moved it, per database: a guess, which only the database can
# confirm. A guess from a transaction that rolled back, or overtaken by another writer (a
# worker process, another API process), simply fails to confirm.
_last_head: WeakKeyDictionary[Engine, tuple[int, str]] = WeakKeyDictionary()
_MOVE_HEAD_FROM = (
    _HEAD_TABLE.update()
    .where(
        _HEAD_TABLE.c.id == 1,
        _HEAD_TABLE.c.last_seq == bindparam("was_seq"),
        _HEAD_TABLE.c.last_hash == bindparam("was_hash"),
    )
    .values(last_seq=bindparam("seq"), last_hash=bindparam("hash"))
)


def _move_from_guess(session: Session, guess: tuple[int, str], last: dict[str, Any]) -> bool:
    """Move the head past `last` only if it still stands at `guess`: True when it did.

    The UPDATE takes the head's lock as `_TAKE_HEAD` does (the row lock on
    PostgreSQL, which re-checks the condition against the row a concurrent writer
    committed; SQLite's write lock, taken before the statement reads), so a head
    found at the guess is the head this transaction holds, and entries chained
    from it are exactly those the take-then-move path would have written. A head
    found elsewhere is left untouched for that path.
    """
    moved = session.execute(
        _MOVE_HEAD_FROM,
        {"was_seq": guess[0], "was_hash": guess[1], "seq": last["seq"], "hash": last["hash"]},
    )
    return bool(moved.rowcount)  # type: ignore[attr-defined]


def _chained(entries: list[Entry], seq: int, prev: str) -> list[dict[str, Any]]:
    """The rows for `entries` appended after entry `seq` whose hash is `prev`."""
    rows = []
    for item in entries:
        seq += 1
        row = {
            **item,
            "seq": seq,
            "at": datetime.now(UTC),
            "before": _stored_form(item.get("before")),
            "after": _stored_form(item.get("after")),
            "prev_hash": prev,
            "hash_version": HASH_VERSION,
        }
        row["hash"] = prev = digest_v2(SimpleNamespace(**row))
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Break:
    """One broken place: the entry to look at and what is wrong with it."""

    seq: int
    reason: str


@dataclass(frozen=True)
class Anchor:
    """A signed checkpoint whose signature has been checked: entry `seq` had `hash`."""

    seq: int
    hash: str
    at: str | None
    name: str


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    head_seq: int = 0
    head_hash: str = GENESIS
    broken: list[Break] = field(default_factory=list)
    checkpoints: int = 0  # signed checkpoints compared against the chain

    @property
    def first_broken_seq(self) -> int | None:
        return min((b.seq for b in self.broken), default=None)

    @property
    def reason(self) -> str | None:
        first = min(self.broken, key=lambda b: b.seq, default=None)
        return first.reason if first else None


def _begin_snapshot(session: Session) -> None:
    """Read everything from one snapshot, so a concurrent write never looks like tampering.

    PostgreSQL: a READ ONLY REPEATABLE READ transaction. SQLite (WAL): an explicit
    BEGIN, since pysqlite runs a lone SELECT outside any transaction. A session
    bound to a connection already in a transaction (the tests' rolled-back
    fixture) is in one snapshot already.
    """
    bind = session.get_bind()
    if not isinstance(bind, Engine) or session.in_transaction():
        return
    if bind.dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        session.execute(text("SET TRANSACTION READ ONLY"))
    else:
        session.connection().exec_driver_sql("BEGIN")


def _entries(session: Session, batch: int) -> Iterator[Any]:
    last = 0
    while True:
        rows = session.execute(
            select(_ENTRY_TABLE)
            .where(_ENTRY_TABLE.c.seq > last)
            .order_by(_ENTRY_TABLE.c.seq)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


@dataclass
class _Link:
    seq: int
    hash: str
    intact: bool  # its own hash matches its content


@dataclass
class _Walk:
    """The chain walked in seq order, collecting every break, not just the first."""

    head_seq: int
    wanted: set[int]  # seqs whose hash a checkpoint records
    broken: list[Break] = field(default_factory=list)
    hashes: dict[int, str] = field(default_factory=dict)
    prev: _Link | None = None
    expected: int = 1
    version: int = 1
    beyond: list[int] = field(default_factory=list)
    checked: int = 0

    def step(self, entry: Any) -> None:
        if entry.seq > self.head_seq:
            self.beyond.append(entry.seq)
            return
        if entry.seq != self.expected:
            gap = f"{self.expected}..{entry.seq - 1}" if entry.seq - 1 > self.expected else ""
            self.broken.append(
                Break(self.expected, f"entries {gap} missing" if gap else "entry missing")
            )
            self.prev = None
        intact = self._own_hash(entry)
        self._link(entry, intact)
        if entry.seq in self.wanted:
            self.hashes[entry.seq] = entry.hash
        self.prev = _Link(entry.seq, entry.hash, intact)
        self.expected = entry.seq + 1
        self.checked += 1

    def _own_hash(self, entry: Any) -> bool:
        version = entry.hash_version
        if version not in DIGESTS:
            self.broken.append(Break(entry.seq, f"unknown hash version {version}"))
            return False
        if version < self.version:
            self.broken.append(
                Break(entry.seq, f"hash version {version} after version {self.version} entries")
            )
        self.version = max(self.version, version)
        if not matches(entry):
            self.broken.append(Break(entry.seq, "entry content was altered (hash differs)"))
            return False
        return True

    def _link(self, entry: Any, intact: bool) -> None:
        prev = self.prev
        if prev is None:
            if entry.seq == 1 and entry.prev_hash != GENESIS and intact:
                self.broken.append(Break(1, "the first entry does not start from genesis"))
            return
        if entry.prev_hash != prev.hash and intact and prev.intact:
            # Both entries match their own content, so the earlier one was rewritten
            # and re-hashed: the later one still records the hash it had.
            self.broken.append(
                Break(
                    prev.seq,
                    f"entry changed and re-hashed (entry {entry.seq} records another hash for it)",
                )
            )

    def finish(self, head_hash: str) -> None:
        last = self.expected - 1
        if last < self.head_seq:
            gone = f"entries {last + 1}..{self.head_seq}" if last + 1 < self.head_seq else "entry"
            self.broken.append(
                Break(last + 1, f"{gone} removed from the end (the head records {self.head_seq})")
            )
        elif self.prev is not None and self.prev.hash != head_hash:
            self.broken.append(Break(last, "the head records another hash for the last entry"))
        elif self.prev is None and self.head_seq == 0 and head_hash != GENESIS:
            self.broken.append(Break(0, "the head of an empty log is not the genesis hash"))
        if self.beyond:
            self.broken.append(
                Break(
                    self.beyond[0],
                    f"{len(self.beyond)} entries after the head ({self.head_seq}) were "
                    "written behind the service's back",
                )
            )

    def against(self, anchors: Iterable[Anchor]) -> int:
        """Compare the chain with signed checkpoints, oldest first; name the rewritten span."""
        good, count = 0, 0
        for anchor in sorted(anchors, key=lambda a: a.seq):
            count += 1
            when = f" of {anchor.at}" if anchor.at else ""
            if anchor.seq > self.expected - 1:
                self.broken.append(
                    Break(
                        self.expected,
                        f"the chain ends at entry {self.expected - 1} but the signed checkpoint "
                        f"{anchor.name}{when} records entry {anchor.seq}: entries were removed "
                        "from the end",
                    )
                )
            elif anchor.seq in self.hashes and self.hashes[anchor.seq] != anchor.hash:
                self.broken.append(
                    Break(
                        good + 1,
                        f"entries {good + 1}..{anchor.seq} were rewritten: entry {anchor.seq} "
                        f"differs from the signed checkpoint {anchor.name}{when}",
                    )
                )
            elif anchor.seq in self.hashes:
                good = anchor.seq
        return count


def read_head(session: Session) -> tuple[int, str] | None:
    """(last seq, last hash) without locking: for readers such as checkpoints."""
    head = session.execute(_READ_HEAD).one_or_none()
    return None if head is None else (head[0], head[1])


def verify(session: Session, anchors: Iterable[Anchor] = (), batch: int = 1000) -> VerifyResult:
    """Walk the chain in order from one snapshot; stream in batches to keep memory small.

    Every break is reported (an edit after a first break is not hidden behind
    it); checkpoints, when given, catch what the chain cannot tell on its own.
    The session is left in its read-only snapshot (callers such as the export
    go on reading from it); write in another session.
    """
    anchors = list(anchors)
    _begin_snapshot(session)
    head = read_head(session)
    head_seq, head_hash = head if head is not None else (0, GENESIS)
    walk = _Walk(head_seq, {a.seq for a in anchors})
    if head is None:
        walk.broken.append(Break(0, "the audit head row is missing"))
    for entry in _entries(session, batch):
        walk.step(entry)
    walk.finish(head_hash)
    checked_anchors = walk.against(anchors)
    broken = sorted(walk.broken, key=lambda b: b.seq)
    return VerifyResult(not broken, walk.checked, head_seq, head_hash, broken, checked_anchors)
