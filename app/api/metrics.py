"""Prometheus metrics: request counters kept in-process, domain gauges read at scrape."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from app.domain.vocabulary import ActionStatus
from app.models import Action, Incident, OutboxItem, WebhookDelivery
from app.runtime import Runtime
from app.services.tracker_sync import tracker_health

_CLOSED = [s.value for s in ActionStatus if s.is_closed]


class DomainCollector(Collector):
    """Counts from the database, so every API replica reports the same numbers."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.runtime.db.sessions() as s:
            incidents = GaugeMetricFamily(
                "hindsight_incidents", "Incidents by status", labels=["status"]
            )
            for status, n in s.execute(
                select(Incident.status, func.count()).group_by(Incident.status)
            ):
                incidents.add_metric([status], n)
            actions = GaugeMetricFamily("hindsight_actions", "Actions by status", labels=["status"])
            for status, n in s.execute(select(Action.status, func.count()).group_by(Action.status)):
                actions.add_metric([status], n)
            overdue = s.scalar(
                select(func.count()).where(
                    Action.due_date < date.today(), Action.status.not_in(_CLOSED)
                )
            )
            outbox = GaugeMetricFamily(
                "hindsight_outbox", "Outbox rows by status", labels=["status"]
            )
            for status, n in s.execute(
                select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
            ):
                outbox.add_metric([status], n)
            pending = s.scalar(select(func.count()).where(WebhookDelivery.status == "pending"))
        yield from _tracker_gauges(self.runtime)
        yield incidents
        yield actions
        yield GaugeMetricFamily(
            "hindsight_actions_overdue", "Open actions past due", value=overdue or 0
        )
        yield outbox
        yield GaugeMetricFamily(
            "hindsight_webhook_deliveries_pending",
            "Deliveries not yet processed",
            value=pending or 0,
        )


def _tracker_gauges(runtime: Runtime) -> Iterator[GaugeMetricFamily]:
    """Whether pushes can reach Jira (the shared breaker) and how much waits for it."""
    health = tracker_health(runtime)
    if not health.enabled:
        return
    yield GaugeMetricFamily(
        "hindsight_tracker_reachable",
        "1 while the tracker breaker is closed, 0 while it is open or probing",
        value=1 if health.reachable else 0,
    )
    breaker = GaugeMetricFamily(
        "hindsight_tracker_breaker", "The tracker breaker's state (1 = current)", labels=["state"]
    )
    for name in ("closed", "open", "half_open"):
        breaker.add_metric([name], 1 if health.breaker == name else 0)
    yield breaker
    yield GaugeMetricFamily(
        "hindsight_tracker_outbox_waiting",
        "Outbox rows not yet in the tracker (pending or being pushed)",
        value=health.waiting,
    )
    yield GaugeMetricFamily(
        "hindsight_tracker_outbox_dead", "Outbox rows in the dead letter", value=health.dead
    )


class Metrics:
    """Request counters and latency, plus the database gauges.

    Under gunicorn each worker is its own process: with PROMETHEUS_MULTIPROC_DIR set
    (the Docker image sets it) the counters live in files that every worker writes
    and every scrape sums, so any worker answers the same totals. The domain gauges
    come from the database and agree anyway.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "hindsight_http_requests",
            "HTTP requests",
            ["method", "endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "hindsight_http_request_seconds",
            "HTTP request latency",
            ["endpoint"],
            registry=self.registry,
        )
        if not self.multiprocess:
            self.registry.register(DomainCollector(runtime))

    def scrape_registry(self) -> CollectorRegistry:
        if not self.multiprocess:
            return self.registry
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(DomainCollector(self.runtime))
        return registry


def render(metrics: Metrics) -> bytes:
    return generate_latest(metrics.scrape_registry())
