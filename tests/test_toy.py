"""The toy story: data, the y = w·x model, and GD / SGD / mini-batch SGD learning w = 2."""
import math

import mxnet as mx
import numpy as np
import pytest
from mxnet import gluon

from mxdl import scratch
from mxdl.errors import ContextError, DataError, MxdlError
from mxdl.landscape import cost_at
from mxdl.models.line import Line, LineClassifier, line_classifier, score_to_label
from mxdl.toy import CIRCLE, DIAMOND, SLIDE_TABLE, label, make_toy
from mxdl.demos.toy_demo import ToyConfig, format_table, run, train_one
from mxdl.train import fit
from mxdl.utils import num_params


# --- data --------------------------------------------------------------------------------------

def test_slide_table_is_labelled_by_the_default_rule():
    points = np.array([p for p, _ in SLIDE_TABLE])
    assert (CIRCLE, DIAMOND) == (0, 1)
    # (2, 1) circle, (2, 4) diamond (exactly on y = 2x), (4, 10) diamond
    np.testing.assert_array_equal(label(points), [CIRCLE, DIAMOND, DIAMOND])
    np.testing.assert_array_equal(label(points), [c for _, c in SLIDE_TABLE])


def test_make_toy_split_labels_and_margin():
    data = make_toy(300, seed=0)
    assert data.X_train.shape == (240, 2) and data.y_train.shape == (240,)
    assert data.X_test.shape == (60, 2) and data.y_test.shape == (60,)
    for X, y in (data.train, data.test):
        np.testing.assert_array_equal(y, label(X, m=2.0))  # labels follow the rule
        assert y.mean() == 0.5  # as many circles as diamonds
        distance = np.abs(X[:, 1] - 2.0 * X[:, 0])
        assert distance.min() >= 3.0 - 1e-5  # the margin around the line
    assert not np.array_equal(data.y_train[:20], np.sort(data.y_train[:20]))  # classes are mixed


def test_make_toy_is_seeded():
    a, b, c = make_toy(100, seed=3), make_toy(100, seed=3), make_toy(100, seed=4)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.X_train, c.X_train)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_make_toy_rejects_too_few_points(n):
    with pytest.raises(DataError, match="at least 4 points"):
        make_toy(n)


# --- models ------------------------------------------------------------------------------------

def test_line_is_y_equals_w_x_and_prints_itself():
    line = Line(weight_initializer=mx.init.Constant(2.0))
    assert "uninitialized" in repr(line)
    line.initialize()
    np.testing.assert_allclose(line(mx.nd.array([1.0, 2.0, 4.0])).asnumpy(), [2.0, 4.0, 8.0])
    assert repr(line) == "Line(y = w*x, 1 weight, w=2.0000)"
    assert num_params(line) == 1


def test_classifier_starts_at_w_zero_scores_and_hybridizes():
    net = line_classifier()
    assert net.w == 0.0 and num_params(net) == 1
    assert "LineClassifier(" in repr(net) and "(line): Line(" in repr(net)
    net = line_classifier(weight_initializer=mx.init.Constant(2.0))
    X = mx.nd.array([p for p, _ in SLIDE_TABLE])
    score = net(X)
    assert score.shape == (3,)
    np.testing.assert_allclose(score.asnumpy(), [-3.0, 0.0, 2.0])  # y - 2x
    np.testing.assert_array_equal(score_to_label(score).asnumpy(), [CIRCLE, DIAMOND, DIAMOND])
    np.testing.assert_allclose(net.probability(X).asnumpy(), 1 / (1 + np.exp([3.0, 0.0, -2.0])),
                               rtol=1e-6)
    net.hybridize()
    np.testing.assert_allclose(net(X).asnumpy(), [-3.0, 0.0, 2.0])


# --- training ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def default_run():
    return run(ToyConfig())


@pytest.mark.slow
def test_default_run_learns_w_2_with_every_method(default_run):
    n_train = len(default_run.data.X_train)
    b = default_run.config.batch_size
    runs = {run.method: run for run in default_run.runs}
    assert set(runs) == {"gradient descent", "SGD", "mini-batch SGD"}
    expected_updates = {"gradient descent": 1, "SGD": n_train, "mini-batch SGD": math.ceil(n_train / b)}
    assert expected_updates == {"gradient descent": 1, "SGD": 240, "mini-batch SGD": 15}
    start_cost = cost_at(*default_run.data.train, 0.0)  # w starts at 0
    for name, run in runs.items():
        assert abs(run.w - 2.0) < 0.1, (name, run.w)
        assert run.test_acc >= 0.98, (name, run.test_acc)
        assert run.updates_per_epoch == expected_updates[name]
        assert run.history.column("updates") == [expected_updates[name]] * default_run.config.num_epochs
        assert run.history.last.cost < start_cost / 100  # the cost came down from w = 0
    table = format_table(default_run)
    assert len(table.splitlines()) == 5 and "| SGD " in table and "final w" in table


def test_short_last_batch_is_kept():
    data = make_toy(300, seed=0)  # 240 training points; batch 50 -> 4 full batches + one of 40
    net = line_classifier()
    history = fit(net, gluon.loss.SigmoidBinaryCrossEntropyLoss(), data.train, num_epochs=2,
                  batch_size=50, lr=0.05, shuffle=False, to_label=score_to_label)
    assert history.column("updates") == [5, 5]
    expected = scratch.gradient_descent(*data.train, lr=0.05, num_epochs=2, batch_size=50)
    assert abs(net.w - expected[-1]) < 1e-6


@pytest.mark.parametrize("batch_size", [None, 1, 16])
@pytest.mark.parametrize("shuffle", [False, True])
def test_scratch_gradient_descent_equals_gluon_trainer(batch_size, shuffle):
    data = make_toy(100, seed=1)
    net = line_classifier()
    weights = []
    fit(net, gluon.loss.SigmoidBinaryCrossEntropyLoss(), data.train, num_epochs=5,
        batch_size=batch_size, lr=0.05, shuffle=shuffle, seed=7, to_label=score_to_label,
        on_epoch=lambda stats: weights.append(net.w))
    by_hand = scratch.gradient_descent(*data.train, lr=0.05, num_epochs=5, batch_size=batch_size,
                                       shuffle=shuffle, seed=7)
    assert weights[0] != 0.0 and len(by_hand) == 5
    np.testing.assert_allclose(weights, by_hand, rtol=0, atol=1e-6)


def test_same_seed_same_history_on_cpu():
    config = ToyConfig(num_epochs=3)
    data = make_toy(config.n, seed=config.seed)
    ctxs = [mx.cpu()]
    runs = [train_one(data, 16, config, ctxs) for _ in range(2)]
    other = train_one(data, 16, ToyConfig(num_epochs=3, seed=1), ctxs)
    keys = ("epoch", "cost", "train_acc", "test_acc", "updates")
    (net_a, hist_a, w_a), (net_b, hist_b, w_b) = runs
    for key in keys:
        assert hist_a.column(key) == hist_b.column(key), key
    assert w_a == w_b and net_a.w == net_b.w
    assert hist_a.column("cost") != other[1].column("cost")  # another seed shuffles differently


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    (dict(batch_size=0), "batch_size"),
    (dict(batch_size=241), "batch_size"),
    (dict(lr=0.0), "lr must be a number > 0"),
    (dict(lr=-0.1), "lr must be a number > 0"),
    (dict(num_epochs=0), "num_epochs"),
])
def test_fit_rejects_bad_hyperparameters(kwargs, message):
    data = make_toy(300, seed=0)
    settings = dict(num_epochs=1, batch_size=16, lr=0.05)
    settings.update(kwargs)
    with pytest.raises(MxdlError, match=message):
        fit(line_classifier(), gluon.loss.SigmoidBinaryCrossEntropyLoss(), data.train,
            to_label=score_to_label, **settings)


def test_fit_and_scratch_reject_empty_data():
    empty = (np.zeros((0, 2), "float32"), np.zeros((0,), "float32"))
    with pytest.raises(MxdlError, match="empty"):
        fit(line_classifier(), gluon.loss.SigmoidBinaryCrossEntropyLoss(), empty, num_epochs=1,
            batch_size=None, lr=0.05, to_label=score_to_label)
    with pytest.raises(MxdlError, match="empty"):
        scratch.gradient_descent(*empty, lr=0.05, num_epochs=1)


@pytest.mark.parametrize("config, error, message", [
    (ToyConfig(batch_size=500), MxdlError, r"batch_size must be an integer from 1 to .* \(240\), got 500"),
    (ToyConfig(batch_size=0), MxdlError, "batch_size must be an integer >= 1, got 0"),
    (ToyConfig(lr=0.0), MxdlError, r"lr must be a number > 0, got 0.0"),
    (ToyConfig(num_epochs=0), MxdlError, "num_epochs must be an integer >= 1, got 0"),
    (ToyConfig(n=2), DataError, "at least 4 points"),
    (ToyConfig(ctx="tpu"), ContextError, "unknown device 'tpu'"),
    (ToyConfig(ctx="gpu:99"), ContextError, "gpu:99"),
    (ToyConfig(ctx="cpu:0,cpu:1"), MxdlError, "trains on one device"),
])
def test_run_toy_rejects_bad_config_before_training(config, error, message, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("training started before the config was checked")

    monkeypatch.setattr("mxdl.demos.toy_demo.train_one", no_training)
    with pytest.raises(error, match=message):
        run(config)


def test_classifier_is_a_hybrid_block_with_the_same_scores_hybridized():
    assert isinstance(LineClassifier(), gluon.HybridBlock) and isinstance(Line(), gluon.HybridBlock)
    X = mx.nd.array([[1.0, 3.0], [2.0, 1.0], [-1.0, 0.5]])
    imperative, hybrid = line_classifier(), line_classifier()
    for net in (imperative, hybrid):
        net.line.weight.set_data(mx.nd.array([2.0]))
    hybrid.hybridize()
    expected = [3.0 - 2.0 * 1.0, 1.0 - 2.0 * 2.0, 0.5 - 2.0 * -1.0]  # y - w·x
    np.testing.assert_allclose(imperative(X).asnumpy().reshape(-1), expected, rtol=1e-6)
    np.testing.assert_allclose(hybrid(X).asnumpy().reshape(-1), expected, rtol=1e-6)
