"""SQLite writers queue on a lock file instead of polling SQLite's busy handler.

Under gunicorn four processes (each with request threads and a job thread) write one
SQLite file; `app.db.QueuedWriter` makes each writer wait for `<db>-writelock` before
its first write and let go when its transaction ends. These tests hold the behaviour:
who holds the lock when, that a waiting writer goes on once the holder commits, that
nothing is lost with several processes writing at once, and that a thread never waits
for itself.
"""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.db import QueuedWriter, make_engine
from app.settings import Settings


def _engine(path: Path) -> sa.Engine:
    return make_engine(Settings(database_url=f"sqlite:///{path}"))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[sa.Engine, Path]]:
    path = tmp_path / "w.db"
    engine = _engine(path)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT UNIQUE)"))
    yield engine, path
    engine.dispose()


def _lock_is_free(path: Path) -> bool:
    """Whether another open file description could take the write lock right now."""
    fd = os.open(f"{path}-writelock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops a lock taken through it
    return True


def test_a_write_transaction_holds_the_lock_until_it_ends_and_reads_take_none(db) -> None:
    engine, path = db
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT count(*) FROM t")).scalar()
        assert _lock_is_free(path), "a read took the write lock"
        conn.execute(sa.text("INSERT INTO t (who) VALUES ('a')"))
        assert not _lock_is_free(path), "a write transaction runs without the lock"
        conn.execute(sa.text("SELECT count(*) FROM t")).scalar()
        assert not _lock_is_free(path)
        conn.commit()
        assert _lock_is_free(path), "the commit kept the lock"
        conn.execute(sa.text("INSERT INTO t (who) VALUES ('b')"))
        conn.rollback()
        assert _lock_is_free(path), "the rollback kept the lock"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("INSERT INTO t (who) VALUES ('c')"))
        assert _lock_is_free(path), "a statement that committed itself kept the lock"
        with pytest.raises(sa.exc.IntegrityError):
            conn.execute(sa.text("INSERT INTO t (who) VALUES ('c')"))
        assert _lock_is_free(path), "a failed statement kept the lock"
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT who FROM t ORDER BY who")).scalars().all() == [
            "a",
            "c",
        ]


def test_a_waiting_writer_goes_on_once_the_holder_commits(db) -> None:
    engine, _path = db
    holder = engine.connect()
    holder.execute(sa.text("INSERT INTO t (who) VALUES ('holder')"))
    done = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO t (who) VALUES ('waiter')"))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            done.set()

    waiter = threading.Thread(target=write)
    waiter.start()
    assert not done.wait(0.3), "the second writer did not wait for the first"
    holder.commit()
    holder.close()
    assert done.wait(10), "the waiting writer did not go on after the commit"
    waiter.join()
    assert errors == []
    with engine.connect() as conn:
        assert set(conn.execute(sa.text("SELECT who FROM t")).scalars()) == {"holder", "waiter"}


def test_a_thread_whose_other_connection_holds_the_lock_does_not_wait_for_itself(
    tmp_path: Path,
) -> None:
    """It falls back to SQLite's own busy wait (here 0.2 s), which then says: locked."""
    path = str(tmp_path / "self.db")
    first = sqlite3.connect(path, factory=QueuedWriter, timeout=0.2)
    second = sqlite3.connect(path, factory=QueuedWriter, timeout=0.2)
    try:
        first.execute("PRAGMA journal_mode=WAL")
        first.execute("CREATE TABLE t (x)")
        first.commit()
        first.execute("INSERT INTO t VALUES (1)")  # holds the lock, transaction open
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            second.execute("INSERT INTO t VALUES (2)")
        first.commit()
        second.execute("INSERT INTO t VALUES (3)")
        second.commit()
        assert sorted(r[0] for r in first.execute("SELECT x FROM t")) == [1, 3]
    finally:
        first.close()
        second.close()


def _writer(path: str, name: str, count: int) -> None:
    """One process: read, then write, in one transaction, `count` times (as a job does)."""
    engine = _engine(Path(path))
    for n in range(count):
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT count(*) FROM t")).scalar()
            conn.execute(sa.text("INSERT INTO t (who) VALUES (:w)"), {"w": f"{name}-{n}"})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("INSERT INTO t (who) VALUES (:w)"), {"w": f"{name}-{n}-auto"})
    engine.dispose()


def test_several_processes_writing_at_once_lose_nothing(db) -> None:
    engine, path = db
    spawn = multiprocessing.get_context("spawn")
    procs = [spawn.Process(target=_writer, args=(str(path), f"p{i}", 60)) for i in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
    assert [proc.exitcode for proc in procs] == [0, 0, 0, 0]
    with engine.connect() as conn:
        stored = set(conn.execute(sa.text("SELECT who FROM t")).scalars())
    expected = {f"p{i}-{n}{end}" for i in range(4) for n in range(60) for end in ("", "-auto")}
    assert stored == expected
