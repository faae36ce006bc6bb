"""mxdl.divergence: the rule that calls a run diverged (NaN/inf, or 1000 times the initial cost)."""
import math

import pytest

from mxdl import divergence
from mxdl.errors import DivergedError


@pytest.mark.parametrize("cost", [math.nan, math.inf, -math.inf])
def test_non_finite_cost_is_divergence(cost):
    with pytest.raises(DivergedError, match="the cost became .* in epoch 3: the learning rate"):
        divergence.check_cost(cost, 3, initial_cost=2.3)


def test_a_cost_1000_times_the_start_is_divergence():
    divergence.check_cost(2.3 * 999, 1, initial_cost=2.3)  # high, but not three orders above
    with pytest.raises(DivergedError, match=r"1\.19e\+17 in epoch 1, 5\.17e\+16 times the cost 2.3 training started from"):
        divergence.check_cost(1.19e17, 1, initial_cost=2.3)


def test_without_a_start_only_nan_and_inf_count():
    divergence.check_cost(1e30, 1)
    divergence.check_cost(1e30, 1, initial_cost=math.nan)


def test_a_start_of_zero_uses_the_floor():
    divergence.check_cost(divergence.FLOOR * 999, 1, initial_cost=0.0)
    with pytest.raises(DivergedError):
        divergence.check_cost(divergence.FLOOR * 1001, 1, initial_cost=0.0)
