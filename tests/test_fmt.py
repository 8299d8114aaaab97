"""Number formatting: rates read as 0% or 100% only when true, up to float rounding."""

from __future__ import annotations

import numpy as np
import pytest

from erranalysis.fmt import pct


@pytest.mark.parametrize("x,text", [
    (0.0, "0%"), (1.0, "100%"), (0.123, "12.3%"),
    (0.0004, "<0.1%"), (0.9996, ">99.9%"), (-0.0004, ">-0.1%"),
    # Weights summed in another order leave residue, not a row's worth of error.
    (1e-17, "0%"), (-1e-17, "0%"), (1 - 1e-15, "100%"),
    (None, "n/a"), (float("nan"), "n/a"),
])
def test_pct(x, text):
    assert pct(x) == text


def test_a_weighted_error_with_no_wrong_row_reads_0_whatever_the_summation_order():
    rng = np.random.default_rng(1)
    weights = rng.uniform(0.1, 3.0, 997)
    in_one = 1.0 - weights.sum() / weights.sum()
    in_batches = 1.0 - sum(weights[i:i + 7].sum() for i in range(0, weights.size, 7)) / weights.sum()
    assert in_batches != 0  # the residue this is about
    assert pct(in_one) == pct(in_batches) == "0%"
