"""The slides that had no code before: each concept computed, checked against a reference, and plotted.

Seeded, fast (seconds) and able to fail: each test checks a property the concept claims, against an
independent computation where there is one.
"""
import math

import numpy as np
import pytest
from matplotlib.figure import Figure
from mxnet import gluon

from mxdl import backprop, families, minibatch, overfitting, regression, scratch
from mxdl.data import load_dataset
from mxdl.errors import MxdlError
from mxdl.models.line import line_classifier, score_to_label
from mxdl.plots import lessons as plots
from mxdl.toy import make_toy
from mxdl.train import fit


@pytest.fixture(scope="module")
def toy():
    return make_toy()


@pytest.fixture(scope="module")
def digits():
    return load_dataset("mnist-t10k", download=False, progress=False)


# --- why y = w·x and not y = x² -------------------------------------------------------------------

def test_the_line_family_fits_the_talks_data_and_the_parabola_cannot(toy):
    fits = families.compare_families(toy.train, toy.test)
    line, parabola = fits["y = w·x"], fits["y = w·x²"]
    assert line.w == pytest.approx(2.0, abs=0.01)
    assert line.train_acc == line.test_acc == 1.0 and len(line.wrong_train) == 0
    assert parabola.train_acc < 0.8 and parabola.cost > 10 * line.cost
    # The parabola crosses the true line once, at x = 2 / w.  Before the crossing it runs below the
    # line, so its mistakes there are circles it calls diamonds; beyond it, diamonds it calls circles.
    crossing = 2.0 / parabola.w
    wrong = parabola.wrong_train
    above_line = wrong[:, 1] >= 2 * wrong[:, 0]
    assert np.all((wrong[:, 0] > crossing) == above_line)
    assert isinstance(plots.plot_families(*toy.train, fits), Figure)


def test_on_bent_data_the_roles_swap(toy):
    train = families.bend(toy.X_train, c=0.1), toy.y_train
    test = families.bend(toy.X_test, c=0.1), toy.y_test
    fits = families.compare_families(train, test)
    assert fits["y = w·x²"].w == pytest.approx(0.1, abs=1e-3) and fits["y = w·x²"].test_acc == 1.0
    assert fits["y = w·x"].train_acc < 0.9


def test_best_weight_is_where_the_slope_is_zero(toy):
    f = families.FAMILIES["y = w·x"]
    w = families.best_weight(*toy.train, f)
    h = 1e-4
    assert families.cost(*toy.train, w, f) < families.cost(*toy.train, w + h, f)
    assert families.cost(*toy.train, w, f) < families.cost(*toy.train, w - h, f)


# --- SGD bouncing around ---------------------------------------------------------------------------

def test_weight_paths_gd_walks_sgd_bounces(toy):
    kwargs = dict(lr=0.05, num_epochs=20, shuffle=True, seed=0)
    n = len(toy.y_train)
    gd = np.array(scratch.weight_path(*toy.train, batch_size=None, **kwargs))
    sgd = np.array(scratch.weight_path(*toy.train, batch_size=1, **kwargs))
    mini = np.array(scratch.weight_path(*toy.train, batch_size=16, **kwargs))
    assert len(gd) == 1 + 20 and len(sgd) == 1 + 20 * n and len(mini) == 1 + 20 * math.ceil(n / 16)
    # The path's end-of-epoch values are what gradient_descent returns.
    assert sgd[n::n] == pytest.approx(scratch.gradient_descent(*toy.train, batch_size=1, **kwargs))
    assert np.all(np.diff(gd) > 0), "gradient descent walks steadily towards w = 2 from w = 0"
    turns = lambda path: int(np.sum(np.diff(np.sign(np.diff(path))) != 0))  # noqa: E731
    assert turns(sgd) > 10 * turns(mini) > 0
    # Over the last epoch SGD jumps about the minimum much more than mini-batch SGD.
    last_sgd, last_mini = sgd[-n:], mini[-math.ceil(n / 16):]
    assert np.ptp(last_sgd) > 3 * np.ptp(last_mini)
    assert abs(np.mean(last_sgd) - 2) < 0.05
    fig = plots.plot_weight_paths({"GD": gd, "SGD": sgd, "mini-batch": mini}, 20, w_best=2)
    assert isinstance(fig, Figure)


# --- the mini-batch arithmetic --------------------------------------------------------------------

def test_the_slides_mini_batch_arithmetic():
    assert minibatch.updates_per_epoch(100, 5) == 20
    assert minibatch.batch_sizes(100, 5) == [5] * 20
    assert minibatch.updates_per_epoch(100, 1) == 100 and minibatch.algorithm(100, 1) == "SGD"
    assert minibatch.updates_per_epoch(100, None) == 1 and minibatch.algorithm(100) == "gradient descent"
    assert minibatch.batch_sizes(100, 7) == [7] * 14 + [2]  # the short last batch is kept
    assert minibatch.mnist_epoch() == 938
    assert minibatch.describe(100, 5) == ("100 samples, batch size 5 (mini-batch SGD): 20 updates per "
                                          "epoch, 20 in 1 epoch")
    with pytest.raises(MxdlError):
        minibatch.updates_per_epoch(100, 0)
    assert set(minibatch.HYPERPARAMETERS) == {"lr", "num_epochs", "batch_size"}


@pytest.mark.parametrize("batch_size", [5, 1, None, 7])
def test_fit_really_makes_that_many_updates(batch_size):
    rng = np.random.RandomState(0)
    X = rng.uniform(0, 10, (100, 2)).astype(np.float32)
    y = (X[:, 1] >= 2 * X[:, 0]).astype(np.float32)
    net = line_classifier()
    history = fit(net, gluon.loss.SigmoidBinaryCrossEntropyLoss(), (X, y), num_epochs=2,
                  batch_size=batch_size, lr=0.01, seed=0, to_label=score_to_label)
    assert history.column("updates") == [minibatch.updates_per_epoch(100, batch_size)] * 2
    assert isinstance(plots.plot_updates_per_epoch(), Figure)


# --- overfitting, underfitting, regularisation ----------------------------------------------------

@pytest.mark.slow
def test_train_and_test_drift_apart_and_weight_decay_pulls_them_back(digits):
    plain = overfitting.train_vs_test("mlp", wd=0.0, num_epochs=40, dataset=digits)
    decayed = overfitting.train_vs_test("mlp", wd=0.01, num_epochs=40, dataset=digits)
    # Underfitting first: after one epoch even the training digits are mostly wrong.
    assert plain.train_acc[0] < 0.7
    # Then overfitting: every training digit right, a tenth or more of the test digits wrong,
    # and the test cost rising again after its minimum.
    assert plain.train_acc[-1] == 1.0 and plain.acc_gap > 0.1
    assert plain.best_test_epoch < 40 and plain.test_cost[-1] > 1.05 * min(plain.test_cost)
    # Weight decay keeps the weights small: a smaller cost gap and a lower final test cost.
    assert decayed.cost_gap < plain.cost_gap
    assert decayed.test_cost[-1] < plain.test_cost[-1]
    fig = plots.plot_train_vs_test([plain, decayed])
    assert isinstance(fig, Figure) and len(fig.axes) == 2


# --- backpropagation by hand ----------------------------------------------------------------------

def test_backprop_by_hand_equals_autograd(digits):
    X, y = digits.train[0][:32], digits.train[1][:32]
    params = backprop.init_params(784, 16, 10, seed=0, scale=0.1)
    cost_hand, hand = backprop.gradients_by_hand(params, X, y)
    cost_auto, auto = backprop.gradients_autograd(params, X, y)
    assert cost_hand == pytest.approx(cost_auto, rel=1e-5)
    for name in backprop.PARAMS:
        assert hand[name].shape == params[name].shape
        assert np.abs(hand[name]).max() > 1e-4, "a zero gradient would agree trivially"
        np.testing.assert_allclose(hand[name], auto[name], atol=1e-6, rtol=1e-4)
    assert isinstance(plots.plot_backprop_check(hand, auto), Figure)


def test_the_check_catches_a_wrong_chain_rule_step(digits, monkeypatch):
    X, y = digits.train[0][:32], digits.train[1][:32]
    params = backprop.init_params(784, 16, 10, seed=0, scale=0.1)
    _, auto = backprop.gradients_autograd(params, X, y)
    # Forget the sigmoid's derivative h (1 - h): the first layer's gradients must no longer agree.
    monkeypatch.setattr(backprop, "sigmoid", lambda z: np.maximum(z, 0))  # now h (1 - h) is wrong
    _, broken = backprop.gradients_by_hand(params, X, y)
    assert backprop.max_difference(broken, auto)["W1"] > 1e-3


def test_sgd_plus_backprop_learns(digits):
    X, y = digits.train[0][:64], digits.train[1][:64]
    params = backprop.init_params(784, 16, 10, seed=0, scale=0.1)
    first, _ = backprop.gradients_by_hand(params, X, y)
    for _ in range(100):
        _, grads = backprop.gradients_by_hand(params, X, y)
        params = backprop.sgd_step(params, grads, lr=0.5)
    last, _ = backprop.gradients_by_hand(params, X, y)
    assert last < 0.4 * first


# --- linear vs logistic regression ----------------------------------------------------------------

def test_linear_and_logistic_regression_side_by_side(toy):
    far = regression.add_far_diamonds(*toy.train)
    fits = regression.compare(far, toy.test)
    linear, logistic = fits["linear"], fits["logistic"]
    # Linear regression by gradient descent lands on the least-squares solution.
    X, y = far
    A = np.c_[X, np.ones(len(X))]
    w1, w2, b = np.linalg.lstsq(A, y, rcond=None)[0]
    assert linear.slope == pytest.approx(-w1 / w2, abs=1e-3)
    assert linear.intercept == pytest.approx((0.5 - b) / w2, abs=1e-2)
    # The far diamonds drag linear regression's line; logistic regression's stays near y = 2x.
    assert linear.test_acc < 0.95 and logistic.test_acc == 1.0
    assert abs(logistic.slope - 2) < abs(linear.slope - 2)
    # Logistic outputs are probabilities; linear ones are just numbers.
    assert 0 < logistic.outputs.min() and logistic.outputs.max() < 1
    assert isinstance(plots.plot_regressions(*far, fits), Figure)
