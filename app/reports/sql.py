"""SQL pieces the reports share, one spelling per dialect (SQLite and PostgreSQL).

Every expression here is SQLAlchemy Core and runs in the database; Python only
reads the few aggregated rows that come back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Date, FromClause, case, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

Executor = Session | Connection


def dialect_of(db: Executor) -> str:
    """'sqlite' or 'postgresql', for a session or a connection."""
    bind = db.get_bind() if isinstance(db, Session) else db
    return bind.dialect.name


def days_between(dialect: str, start: Any, end: Any) -> ColumnElement[Any]:
    """(end - start) in days, fractional."""
    if dialect == "postgresql":
        return func.extract("epoch", end - start) / 86400.0
    return func.julianday(end) - func.julianday(start)


def utc_date(dialect: str, column: Any) -> ColumnElement[Any]:
    """The UTC calendar day of a timestamp (comparable with a DATE column)."""
    if dialect == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def utc_month(dialect: str, column: Any) -> ColumnElement[Any]:
    """'YYYY-MM' of a timestamp, in UTC."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def json_values(dialect: str, column: Any) -> FromClause:
    """The elements of a JSON list of strings as a table with one column, `value`."""
    name = "jsonb_array_elements_text" if dialect == "postgresql" else "json_each"
    return getattr(func, name)(column).table_valued("value").alias("svc")


def has_value(dialect: str, column: Any, value: str) -> ColumnElement[bool]:
    """EXISTS: the JSON list in `column` holds `value`."""
    values = json_values(dialect, column)
    return select(1).select_from(values).where(values.c.value == value).exists()


def count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


PERCENTILES = {"median": 5, "p90": 9}  # in tenths


def percentile_columns(days: Any, rn: Any, n: Any) -> list[ColumnElement[Any]]:
    """The two neighbours of each percentile (as PostgreSQL's percentile_cont picks them).

    For p in tenths and n ordered values numbered rn = 1..n, the position is
    p * (n - 1) / 10; the low neighbour is its floor and the high its ceiling.
    `interpolate` finishes the figure from the two.
    """
    cols: list[ColumnElement[Any]] = []
    for name, tenths in PERCENTILES.items():
        pos = tenths * (n - 1)
        low, high = pos // 10, (pos + 9) // 10
        cols.append(func.max(case((rn - 1 == low, days))).label(f"{name}_low"))
        cols.append(func.max(case((rn - 1 == high, days))).label(f"{name}_high"))
    return cols


def interpolate(row: Any, name: str, n: int) -> float | None:
    low, high = getattr(row, f"{name}_low"), getattr(row, f"{name}_high")
    if low is None or high is None:
        return None
    fraction = (PERCENTILES[name] * (n - 1) % 10) / 10
    return round(float(low) + (float(high) - float(low)) * fraction, 2)
