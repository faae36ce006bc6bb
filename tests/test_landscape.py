"""The cost as a function of w: minimum near w = 2; finite-difference slope vs autograd (1e-3 rel)."""
import numpy as np
import pytest

from mxdl import landscape, scratch
from mxdl.toy import make_toy


@pytest.fixture(scope="module")
def train():
    return make_toy(300, seed=0).train


def test_cost_curve_has_its_minimum_at_w_2(train):
    weights = np.linspace(0.0, 4.0, 401)  # steps of 0.01
    costs = landscape.cost_curve(*train, weights)
    best = weights[np.argmin(costs)]
    assert abs(best - 2.0) < 0.011
    left, right = costs[weights < 1.9], costs[weights > 2.1]
    assert np.all(np.diff(left) < 0) and np.all(np.diff(right) > 0)  # downhill, then uphill
    assert costs[0] > 100 * costs.min()


def test_zero_one_and_squared_error_curves(train):
    weights = np.array([0.0, 1.0, 2.0, 3.0, 10.0])
    zero_one = landscape.cost_curve(*train, weights, loss="zero_one")
    assert zero_one[2] == 0.0  # y = 2x separates every training point
    assert zero_one[0] == pytest.approx(0.5, abs=0.05)  # y = 0·x: (almost) all circles wrong
    assert zero_one[4] == pytest.approx(0.5, abs=0.05)  # y = 10x: (almost) all diamonds wrong
    squared = landscape.cost_curve(*train, weights, loss="squared_error")
    assert np.argmin(squared) == 2 and np.all(squared <= 1.0)
    with pytest.raises(ValueError, match="unknown loss"):
        landscape.cost_curve(*train, weights, loss="hinge")


@pytest.mark.parametrize("w", [-1.0, 0.0, 0.5, 1.5, 1.9, 2.2, 3.0, 5.0])
def test_finite_difference_slope_equals_autograd(train, w):
    by_difference = landscape.slope_finite_difference(*train, w)
    by_autograd = landscape.slope_autograd(*train, w)
    by_hand = scratch.gradient(np.asarray(train[0], np.float64), np.asarray(train[1], np.float64), w)
    assert abs(by_autograd) > 0.01  # away from the minimum, where a relative error means something
    assert by_difference == pytest.approx(by_autograd, rel=1e-3)
    assert by_hand == pytest.approx(by_autograd, rel=1e-3)


def test_slope_sign_points_downhill(train):
    assert landscape.slope_autograd(*train, 1.0) < 0 < landscape.slope_autograd(*train, 3.0)
    cost, slope = landscape.tangent(*train, 2.0)
    assert abs(slope) < 1e-6 and cost == pytest.approx(landscape.cost_at(*train, 2.0))
