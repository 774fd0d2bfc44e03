"""Verify during concurrent writes never reports tampering (committed data, real threads).

Writers append to the chain (each PATCH writes an entry and moves the head)
while a verifier walks it over and over. Reading entries and the head at
different moments is what made `/audit/verify` say "entries removed from
the end" on a busy service; one snapshot, with the head read first, cannot.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from app.schemas.incidents import IncidentUpdate
from app.services.checkpoints import verify_chain
from app.services.incidents import update_incident
from tests.conftest import ADMIN_TOKEN, ApiClient, runtime
from tests.integration.test_api_incidents import create

WRITERS, WRITES = 3, 15


def test_verify_in_a_loop_during_concurrent_writes_never_reports_tampering(
    committed_app: Flask, committed_api: ApiClient
) -> None:
    rt = runtime(committed_app)
    keys = [create(committed_api, title=f"Concurrent {n}")["key"] for n in range(WRITERS)]
    done = threading.Event()

    def write(key: str) -> None:
        for n in range(WRITES):
            update_incident(rt, key, IncidentUpdate(summary=f"{key} write {n}"), "writer")

    def verify() -> list[tuple[int, str]]:
        seen: list[tuple[int, str]] = []
        runs = 0
        while not done.is_set() or runs < 3:
            result = verify_chain(rt)
            seen.extend((b.seq, b.reason) for b in result.broken)
            runs += 1
        assert runs >= 3
        return seen

    with ThreadPoolExecutor(WRITERS + 1) as pool:
        checker = pool.submit(verify)
        for writer in [pool.submit(write, k) for k in keys]:
            writer.result()
        done.set()
        problems = checker.result()
    assert problems == []
    final = ApiClient(committed_app.test_client(), ADMIN_TOKEN).get("/api/v1/audit/verify").json
    assert final["ok"] is True and final["checked"] >= WRITERS * (WRITES + 1)
