"""Generated incidents and actions for bench/reports.py, loaded with PostgreSQL COPY.

Deterministic per incident (its own seeded RNG), so a sample database of the first
S incidents holds exactly the first S incidents of the full one. Variety the reports
care about: services and teams, severities, incident and action statuses (done,
verified, won't do, open past their due date: overdue), causes with categories, one
mechanism coming back in the same service in new words (repeats), timeline text,
published and draft postmortems. Rows go in chunks, so memory stays flat.
"""

from __future__ import annotations

import json
import random
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SPAN_DAYS = 730
SERVICES = [
    f"{a}-{b}"
    for a in ("checkout", "payments", "search", "ledger", "auth", "catalog", "shipping", "mail")
    for b in ("api", "worker", "db", "edge", "cache")
]
TEAMS = ["core", "payments", "search", "platform", "identity", "growth", "ops", "data"]
COMPONENTS = [
    "orders", "billing", "session", "inventory", "invoice", "refund", "profile", "pricing",
    "token", "webhook", "export", "import", "thumbnail", "ranking", "queue", "scheduler",
    "report", "archive", "ledger", "cart", "coupon", "tax", "fraud", "address",
]  # fmt: skip
# (category, wordings): one failure mechanism, told three ways; {c} is the component.
MECHANISMS: list[tuple[str, list[str]]] = [
    ("capacity", ["the {c} disk filled up with logs", "no space left on the {c} volume",
                  "{c} log partition ran out of free space"]),
    ("capacity", ["the {c} database connection pool was exhausted",
                  "{c} ran out of pooled connections under load",
                  "all {c} connections in the pool were taken"]),
    ("security", ["the TLS certificate for {c} expired", "{c} certificate was not renewed in time",
                  "expired cert on the {c} endpoint"]),
    ("config", ["a bad config push set the {c} timeout to zero",
                "{c} timeout configured as 0 by a config change",
                "config change removed the {c} request timeout"]),
    ("dependency", ["the upstream {c} provider returned 503 errors",
                    "third-party {c} API was down", "{c} vendor outage upstream"]),
    ("change", ["a deploy of {c} shipped a migration that locked the table",
                "{c} schema migration held a table lock during release",
                "release of {c} ran a locking migration"]),
    ("monitoring", ["the {c} alert was silenced so the outage went unseen",
                    "no alert fired for {c} errors", "{c} paging rule was muted"]),
    ("hardware", ["a failed NIC on the {c} host dropped packets",
                  "{c} host network card failed", "packet loss from broken {c} hardware"]),
    ("testing", ["a race in {c} retries was not covered by tests",
                 "untested retry path in {c} double-processed messages",
                 "{c} retry race slipped past the test suite"]),
    ("architecture", ["a single {c} leader was a point of failure",
                      "{c} had no failover for its primary", "one {c} node took everything down"]),
    ("dependency", ["DNS resolution for {c} failed", "{c} could not resolve its upstream host",
                    "resolver timeouts broke {c} lookups"]),
    ("capacity", ["memory leak in {c} caused OOM kills", "{c} pods were OOM killed",
                  "{c} heap grew until the process was killed"]),
]  # fmt: skip
SECOND = [("process", "the runbook for this was out of date"),
          ("communication", "the on-call was not told about the change"),
          ("organizational", "nobody owned the component")]  # fmt: skip
ACTION_TITLES = ["Add an alert on {c} {w}", "Write a runbook for {c}", "Add a test for {c} {w}",
                 "Automate {c} certificate renewal", "Raise the {c} pool size",
                 "Add failover for {c}", "Rotate {c} logs daily",
                 "Review {c} config changes"]  # fmt: skip
A_STATUS = ["open", "in_progress", "blocked", "done", "verified", "wont_do"]
A_WEIGHTS = [20, 12, 5, 36, 15, 12]
TYPES = ["prevent", "detect", "mitigate", "process", "documentation"]
PRIORITIES = ["P0", "P1", "P2", "P3", None]
SEVERITIES, SEV_WEIGHTS = ["SEV1", "SEV2", "SEV3", "SEV4"], [5, 20, 45, 30]
REPEAT_SHARE = 0.12

COLUMNS = {
    "incidents": "id key title summary severity status services tags regulatory started_at "
    "detected_at acknowledged_at mitigated_at resolved_at closed_at source created_at updated_at",
    "causes": "id incident_id kind category statement why evidence_ids created_at",
    "timeline_events": "id incident_id at kind source text is_decision alternatives "
    "evidence_links created_at",
    "postmortems": "id incident_id status summary impact went_well went_wrong lucky lessons "
    "published_at created_at updated_at",
    "actions": "id key incident_id title description type team due_date priority status "
    "is_compliance escalation_level tracker_deleted last_activity_at completed_at verified_at "
    "created_at updated_at",
    "action_status_changes": "id action_id from_status to_status actor source at",
}


def actions_of(i: int, incidents: int, actions: int) -> int:
    """How many actions incident i has: the total spread evenly (the same in the sample)."""
    base, extra = divmod(actions, incidents)
    return base + (1 if i < extra else 0)


class Generator:
    """Rows of every table, incident by incident (ids 1..N in start order)."""

    def __init__(self, incidents: int, actions: int) -> None:
        self.n, self.m = incidents, actions
        self.recent: dict[str, deque[tuple[int, str]]] = {s: deque(maxlen=30) for s in SERVICES}
        self.action_id = self.cause_id = self.event_id = self.change_id = 0
        self.rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in COLUMNS}

    def mechanism(self, rng: random.Random, service: str) -> tuple[int, str]:
        recent = self.recent[service]
        if recent and rng.random() < REPEAT_SHARE:
            return rng.choice(list(recent))  # the same mechanism comes back
        found = (rng.randrange(len(MECHANISMS)), rng.choice(COMPONENTS))
        recent.append(found)
        return found

    def incident(self, i: int) -> None:
        rng = random.Random(i * 7919 + 17)
        services = [rng.choice(SERVICES)]
        if rng.random() < 0.15:
            services.append(rng.choice(SERVICES))
        mech, comp = self.mechanism(rng, services[0])
        category, wordings = MECHANISMS[mech]
        cause = rng.choice(wordings).format(c=comp)
        started = NOW - timedelta(days=SPAN_DAYS * (1 - i / (self.n + 1)), minutes=rng.random())
        detected = started + timedelta(minutes=rng.uniform(1, 90))
        acked = detected + timedelta(minutes=rng.uniform(0.5, 30))
        mitigated = acked + timedelta(minutes=rng.uniform(5, 240))
        resolved = mitigated + timedelta(minutes=rng.uniform(10, 600))
        key = f"INC-{i}"
        title = f"{services[0]} errors: {cause.split(' ', 3)[-1]}"[:300]
        summary = f"Customers saw failures on {', '.join(services)} because {cause}."
        closed = rng.random() < 0.8
        self.rows["incidents"].append((
            i, key, title, summary, rng.choices(SEVERITIES, SEV_WEIGHTS)[0],
            "closed" if closed else "resolved", json.dumps(services), json.dumps([category]),
            "[]", started, detected, acked if rng.random() < 0.9 else None, mitigated, resolved,
            resolved if closed else None, "bench", started, resolved,
        ))  # fmt: skip
        self.cause(i, category, cause, started)
        if rng.random() < 0.3:
            self.cause(i, *rng.choice(SECOND), started)
        self.timeline(i, rng, services[0], comp, started, mitigated)
        if rng.random() < 0.85:
            published = rng.random() < 0.75
            self.rows["postmortems"].append((
                i, i, "published" if published else "draft", summary, "", "[]", "[]", "[]",
                json.dumps([f"watch {comp} {category} earlier"]),
                resolved + timedelta(days=rng.uniform(0.5, 20)) if published else None,
                resolved, resolved,
            ))  # fmt: skip
        for _ in range(actions_of(i - 1, self.n, self.m)):
            self.action(rng, i, comp, resolved)

    def cause(self, incident: int, category: str, statement: str, at: datetime) -> None:
        self.cause_id += 1
        why = f"{statement} because nobody checked"
        self.rows["causes"].append(
            (self.cause_id, incident, "root", category, statement, why, "[]", at)
        )

    def timeline(
        self, i: int, rng: random.Random, svc: str, comp: str, at: datetime, fixed: datetime
    ) -> None:
        texts = [
            ("alert", f"Alert fired: {svc} error rate above 5% in {comp}"),
            ("investigation", f"Traced the {comp} failures to {rng.choice(['logs', 'traces'])}"),
            ("mitigation", f"Rolled back {svc} and restarted {comp} workers"),
        ]
        for n, (kind, text) in enumerate(texts):
            self.event_id += 1
            when = at + (fixed - at) * n / 2
            self.rows["timeline_events"].append(
                (self.event_id, i, when, kind, "manual", text, False, "[]", "[]", when)
            )

    def action(self, rng: random.Random, incident: int, comp: str, resolved: datetime) -> None:
        self.action_id += 1
        a = self.action_id
        created = resolved + timedelta(hours=rng.uniform(1, 96))
        due = (created + timedelta(days=rng.uniform(7, 90))).date()
        status = rng.choices(A_STATUS, A_WEIGHTS)[0]
        done_at = created + timedelta(days=rng.uniform(0.2, 120))
        completed = done_at if status in ("done", "verified") and done_at < NOW else None
        if status in ("done", "verified") and completed is None:
            status = "in_progress"
        title = rng.choice(ACTION_TITLES).format(c=comp, w=rng.choice(["errors", "latency"]))
        self.rows["actions"].append((
            a, f"ACT-{a}", incident, title, f"Follow-up of INC-{incident} on {comp}",
            rng.choice(TYPES), rng.choice(TEAMS + [None]), due if rng.random() < 0.9 else None,
            rng.choice(PRIORITIES), status, False, 0, False, completed or created, completed,
            completed if status == "verified" else None, created, completed or created,
        ))  # fmt: skip
        if status != "open":
            self.change_id += 1
            at = completed or min(created + timedelta(days=2), NOW)
            moved = "done" if status == "verified" else status
            self.rows["action_status_changes"].append(
                (self.change_id, a, "open", moved, "bench", "api", at)
            )

    def flush(self, conn: psycopg.Connection[Any]) -> None:
        with conn.cursor() as cur:
            for table, rows in self.rows.items():
                cols = ", ".join(COLUMNS[table].split())
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                rows.clear()
        conn.commit()


# The incident's filter fields go on each of its documents, as app/search/index.py writes
# them (and migration 0017 backfills them).
SEARCH_DOCS = """
WITH f AS (
  SELECT i.id, coalesce(i.started_at, i.created_at) AS started,
    ARRAY['severity:' || i.severity]
    || ARRAY(SELECT 'service:' || s FROM jsonb_array_elements_text(i.services) AS s)
    || ARRAY(SELECT DISTINCT 'category:' || c.category FROM causes c
             WHERE c.incident_id = i.id ORDER BY 1) AS facets
  FROM incidents i)
INSERT INTO search_documents (incident_id, kind, body, facets, started)
SELECT u.incident_id, u.kind, u.body, f.facets, f.started FROM (
  SELECT id AS incident_id, 'incident' AS kind, title || E'\\n' || summary AS body FROM incidents
  UNION ALL SELECT incident_id, 'timeline', text FROM timeline_events
  UNION ALL SELECT incident_id, 'cause', statement || E'\\n' || coalesce(why, '') FROM causes
  UNION ALL SELECT incident_id, 'action', title || E'\\n' || description FROM actions
  UNION ALL SELECT incident_id, 'lesson', summary FROM postmortems WHERE summary <> ''
) u JOIN f ON f.id = u.incident_id
"""
SEARCH_INDEXES = [
    ("ix_search_documents_search", "USING gin (tsv, facets)"),
    ("ix_search_documents_started", "(started)"),
]


def load(url: str, incidents: int, actions: int, chunk: int = 2000) -> None:
    """Every table by COPY, then the knowledge base in one INSERT ... SELECT (index after)."""
    gen = Generator(incidents, actions)
    with psycopg.connect(url) as conn:
        for name, _ in SEARCH_INDEXES:
            conn.execute(f"DROP INDEX IF EXISTS {name}")
        for i in range(1, incidents + 1):
            gen.incident(i)
            if i % chunk == 0 or i == incidents:
                gen.flush(conn)
        conn.execute(SEARCH_DOCS)
        for name, how in SEARCH_INDEXES:
            conn.execute(f"CREATE INDEX {name} ON search_documents {how}")
        for table in ("incidents", "causes", "timeline_events", "postmortems", "actions"):
            conn.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
        conn.execute("ANALYZE")
        conn.commit()
