"""Whatever JSON an entry carries, the database hands it back in a form that hashes alike.

Generated values go through a real JSON column (PostgreSQL: JSONB, which
re-forms numbers and reorders keys; SQLite: text) and the chain must still
verify: the hash is computed from the stored form, canonically.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import audit
from tests.conftest import runtime

TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=8)
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=VALUES)
def test_any_stored_json_keeps_the_chain_verifiable(app: Flask, value: object) -> None:
    rt = runtime(app)
    with rt.db.sessions() as s:
        audit.record(
            s,
            actor="generated",
            action="incident.update",
            entity_type="incident",
            entity_key="INC-1",
            before={"v": value},
            after={"v": [value, {"again": value}]},
        )
        s.commit()
    with rt.db.sessions() as s:
        result = audit.verify(s)
        stored = s.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one()
    assert result.ok, (value, result.broken)
    assert result.checked == stored
