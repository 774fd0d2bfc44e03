"""`hindsight demo`: six worked incidents (five domains and a repeat) on the embedded default."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from . import runtime
from .db import upgrade
from .domain.vocabulary import Scope
from .models import Action, Finding, Incident
from .queue import BackgroundQueue
from .services.documents import import_file_once
from .services.tokens import create_token
from .services.users import Role, create_user
from .settings import Settings

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"


@dataclass
class DemoSummary:
    database: str
    token: str
    sign_in: tuple[str, str] | None = None  # (username, password) created for the web UI
    loaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    incidents: list[tuple[str, str, str, int, int]] = field(default_factory=list)

    def render(self, host: str, port: int) -> str:
        lines = [f"Hindsight demo on {self.database}"]
        if self.loaded:
            lines.append(f"loaded {len(self.loaded)} incident(s): {', '.join(self.loaded)}")
        if self.skipped:
            lines.append(f"already present: {', '.join(self.skipped)}")
        lines.append("")
        lines.append(f"{'key':<8} {'severity':<8} {'actions':>7} {'findings':>8}  title")
        for key, sev, title, n_actions, n_findings in self.incidents:
            lines.append(f"{key:<8} {sev:<8} {n_actions:>7} {n_findings:>8}  {title}")
        lines += [
            "",
            f"API token (write scope, shown once): {self.token}",
            f"  curl -H 'Authorization: Bearer {self.token}' http://{host}:{port}/api/v1/incidents",
        ]
        if self.sign_in:
            user, password = self.sign_in
            lines += [
                "",
                f"Web sign-in (facilitator, shown once): http://{host}:{port}/sign-in",
                f"  username {user}  password {password}",
            ]
        return "\n".join(lines)


def load_demo(settings: Settings, demo_dir: Path = DEMO_DIR) -> DemoSummary:
    """Idempotent: a demo file already imported (same source and id) is skipped."""
    upgrade(settings)
    rt = runtime.build(settings)
    summary = DemoSummary(database=settings.database_url, token="")
    for path in sorted(demo_dir.glob("*.yaml")):
        key, created = import_file_once(rt, path, source="demo", actor="demo")
        (summary.loaded if created else summary.skipped).append(key)
    summary.token = create_token(
        rt, f"demo-{secrets.token_hex(3)}", [Scope.WRITE], actor="demo", owner="Demo Visitor"
    )
    username, password = f"demo-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    create_user(
        rt,
        username=username,
        display_name="Demo Facilitator",
        role=Role.FACILITATOR,
        password=password,
        actor="demo",
    )
    summary.sign_in = (username, password)
    if isinstance(rt.queue, BackgroundQueue):
        rt.queue.wait_idle(120)  # the counts below include the evaluations the imports asked for
    with rt.db.sessions() as s:
        for inc in s.scalars(select(Incident).order_by(Incident.id)):
            n_actions = s.scalar(select(func.count()).where(Action.incident_id == inc.id)) or 0
            n_findings = s.scalar(select(func.count()).where(Finding.incident_id == inc.id)) or 0
            summary.incidents.append(
                (inc.key or "", inc.severity, inc.title, n_actions, n_findings)
            )
    return summary
