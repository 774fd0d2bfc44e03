"""The PostgreSQL completion path takes median and p90 from the cells' days in Python.

`percentile` must give what `percentile_cont` gives: position p * (n - 1), the two
neighbours, linear interpolation. The integration tests check the report's figures on
PostgreSQL; these pin the edge cases (one value, exact positions, unsorted cells merged).
"""

from __future__ import annotations

import numpy as np
import pytest

from app.reports.completion_pg import percentile


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([1.75, 2.0, 4.5, 10.0], 0.5, 3.25),  # position 1.5: 2 + 0.5 * 2.5
        ([1.75, 2.0, 4.5, 10.0], 0.9, 8.35),  # position 2.7: 4.5 + 0.7 * 5.5
        ([7.0], 0.5, 7.0),
        ([7.0], 0.9, 7.0),
        ([1.0, 3.0, 5.0], 0.5, 3.0),  # an exact position: no interpolation
        ([0.0, 10.0], 0.9, 9.0),
    ],
)
def test_percentile_interpolates_as_percentile_cont(
    values: list[float], fraction: float, expected: float
) -> None:
    assert percentile(np.array(values), fraction) == pytest.approx(expected)


def test_percentile_of_cells_merged_is_that_of_all_their_values() -> None:
    cells = [np.array([10.0, 2.0]), np.array([4.5]), np.array([1.75])]
    merged = np.sort(np.concatenate(cells))
    assert percentile(merged, 0.5) == pytest.approx(3.25)
    assert percentile(merged, 0.9) == pytest.approx(8.35)
