"""Requests generated from /openapi.json (schemathesis), positive and negative, on both databases.

Positive cases are requests the document says are valid: each must be answered without a
5xx and, unless the resource does not exist (404) or its state forbids it (409), accepted.
The only 422s allowed for them are the rules JSON Schema cannot state (CROSS_FIELD).
Negative cases break the document somewhere: each must be refused with a 4xx. Every answer
must match the response schema and content type the document declares.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import ADMIN_TOKEN, ApiClient

pytestmark = pytest.mark.slow

# Rules JSON Schema cannot state (the descriptions say them): incident times in order, an
# export's `from` not after its `to`, a report's `until` after its `since`, ids in a body
# (parent_id, evidence_ids, cause_ids) naming rows of that incident, an obligation naming one
# of the policy's (config, not schema) and only on a notification event, an uploaded file's
# SHA-256 agreeing with its bytes, and a token's expiry lying in the future (the clock).
# An import document (POST /imports) is relational through and through (refs between its own
# causes, evidence and actions; a status history the workflow allows, in time order; times
# against statuses): its positive cases may be refused with 422 by those checks alone
# (app/services/document_checks.py), which tests/integration/test_import_history.py covers.
CROSS_FIELD = (
    "is earlier than",
    "'from' is after 'to'",
    "must be after since",
    " has no ",
    "no obligation ",
    "only a notification event names an obligation",
    "the file's SHA-256 is ",
    "must be in the future",
)
EXAMPLES = 6
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _seed(app: Flask) -> dict[str, str]:
    """An incident with one of everything, so generated keys sometimes reach a real row."""
    api = ApiClient(app.test_client(), ADMIN_TOKEN)
    incident = api.post(
        "/api/v1/incidents",
        json={"title": "Seeded", "severity": "SEV2", "services": ["checkout"]},
    ).json
    key = incident["key"]
    api.post(
        f"/api/v1/incidents/{key}/timeline",
        json={"at": "2026-03-01T10:00:00Z", "kind": "note", "text": "seed"},
    )
    api.post(
        f"/api/v1/incidents/{key}/causes",
        json={"kind": "trigger", "category": "change", "statement": "config push"},
    )
    action = api.post(
        f"/api/v1/incidents/{key}/actions", json={"title": "Canary", "type": "prevent"}
    ).json
    api.post(f"/api/v1/incidents/{key}/evaluate")
    return {"incidents": key, "actions": action["key"]}


@pytest.fixture
def api_schema(app: Flask) -> Any:
    keys = _seed(app)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        allow_x00=False,  # NUL is refused everywhere (README), not per schema
        deterministic=True,
    )
    schema.config.checks.negative_data_rejection.expected_statuses = [
        "400",
        "401",
        "403",
        "404",
        "405",
        "409",
        "413",
        "415",
        "422",
    ]

    @schema.hook
    def map_case(_ctx: Any, case: Case) -> Case:
        """Half the positive cases address the seeded rows (by the generated key's length)."""
        params = case.path_parameters or {}
        if case.meta is not None and case.meta.generation.mode.is_positive and "key" in params:
            kind = "actions" if case.operation.path.startswith("/api/v1/actions") else "incidents"
            if len(str(params["key"])) % 2 == 0:
                params["key"] = keys[kind]
        return case

    return schema


def _positive_accepted(ctx: Any, response: Any, case: Case) -> bool | None:
    """schemathesis' positive check, except a 422 that names a stated cross-field rule."""
    if response.status_code == 422:
        errors = json.loads(response.content).get("errors") or []
        if case.operation.path == "/api/v1/imports" and errors:
            return None
        if errors and all(any(r in e.get("msg", "") for r in CROSS_FIELD) for e in errors):
            return None
    result: bool | None = positive_data_acceptance(ctx, response, case)
    return result


def _check(case: Case) -> None:
    response = case.call(headers=AUTH)
    case.validate_response(
        response,
        excluded_checks=[positive_data_acceptance],
        additional_checks=[_positive_accepted],
        headers=AUTH,
    )


def _run(operation: Any, mode: GenerationMode) -> str | None:
    """One operation in one mode; the shrunk failure as text, or None."""

    @given(operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    def run(case: Case) -> None:
        _check(case)

    try:
        run()
    except (KeyboardInterrupt, SystemExit):
        raise
    except Unsatisfiable:  # no input to break (e.g. GET /keys/signing.pub): no negative case
        if mode is GenerationMode.NEGATIVE:
            return None
        raise
    except BaseException as exc:  # a failed check (a FailureGroup), in schemathesis' words
        return f"{operation.label} [{mode.value}]: {str(exc)[:1500]}"
    return None


def test_generated_requests_are_answered_as_documented(api_schema: Any) -> None:
    """Every operation, positive and negative: no failure of any check.

    (The schemathesis pytest plugin's lazy fixture loader does not run on pytest 9, so the
    operations are driven here with their hypothesis strategies.)
    """
    failures = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failure = _run(operation, mode)
            if failure:
                failures.append(failure)
    assert not failures, "\n\n".join(failures)
