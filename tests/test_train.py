"""The one training loop: batch size turns gradient descent into SGD into mini-batch SGD."""
import math

import mxnet as mx
import numpy as np
import pytest
from mxnet import gluon

from mxdl import train, utils
from mxdl.errors import DivergedError, MxdlError

from conftest import blobs


def _blobs(n=120, seed=0):
    """Three well-separated Gaussian blobs in 2-D: a tiny multiclass task."""
    return blobs(n, seed, scale=0.5)


def _net(ctx=mx.cpu(), seed=0):
    utils.seed_everything(seed)
    net = gluon.nn.Dense(3, in_units=2)
    net.initialize(mx.init.Normal(0.1), ctx=ctx)
    return net


LOSS = gluon.loss.SoftmaxCrossEntropyLoss()


@pytest.mark.parametrize("batch_size, updates", [(None, 1), (120, 1), (1, 120), (32, 4), (50, 3)])
def test_batch_size_sets_updates_per_epoch(batch_size, updates):
    X, y = _blobs()
    history = train.fit(_net(), LOSS, (X, y), num_epochs=2, batch_size=batch_size, lr=0.1, seed=0)
    assert history.column("updates") == [updates, updates]
    assert history.column("epoch") == [1, 2]


def test_learns_and_reports_test_accuracy():
    X, y = _blobs(200)
    history = train.fit(_net(), LOSS, (X[:150], y[:150]), (X[150:], y[150:]),
                        num_epochs=5, batch_size=16, lr=0.5, seed=0)
    assert history.last.test_acc >= 0.95
    assert history.last.cost < history[0].cost
    assert all(s.seconds > 0 and s.samples_per_sec > 0 for s in history)


def test_same_seed_same_history():
    X, y = _blobs()
    runs = [train.fit(_net(), LOSS, (X, y), num_epochs=3, batch_size=16, lr=0.3, seed=5) for _ in range(2)]
    assert runs[0].column("cost") == runs[1].column("cost")
    assert runs[0].column("train_acc") == runs[1].column("train_acc")


def test_two_cpu_contexts_equal_one():
    X, y = _blobs(100)
    one = _net(mx.cpu(0))
    train.fit(one, LOSS, (X, y), num_epochs=3, batch_size=20, lr=0.5, seed=1)
    two = _net([mx.cpu(0), mx.cpu(1)])
    history = train.fit(two, LOSS, (X, y), (X, y), num_epochs=3, batch_size=20, lr=0.5, seed=1,
                        ctx=[mx.cpu(0), mx.cpu(1)])
    for ctx in (mx.cpu(0), mx.cpu(1)):
        np.testing.assert_allclose(two.weight.data(ctx).asnumpy(), one.weight.data().asnumpy(), atol=1e-5)
    assert history.last.test_acc == train.evaluate(one, X, y)[1]


def test_several_devices_without_kvstore_is_refused():
    X, y = _blobs()
    with pytest.raises(MxdlError, match="kvstore"):
        train.fit(_net([mx.cpu(0), mx.cpu(1)]), LOSS, (X, y), num_epochs=1, batch_size=8, lr=0.1,
                  kvstore=None)


def test_diverging_learning_rate_is_a_clear_error():
    # Linear regression with MSE and a huge learning rate: the cost overflows to inf, then nan.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(64, 4)).astype("float32") * 10
    y = X.sum(axis=1)
    net = gluon.nn.Dense(1, in_units=4)
    net.initialize()
    with pytest.raises(DivergedError, match=r"epoch \d+.*lower"):
        train.fit(net, gluon.loss.L2Loss(), (X, y), num_epochs=20, batch_size=8, lr=100.0,
                  to_label=lambda y_hat: y_hat)


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch_size=0), "batch_size"),
    (dict(batch_size=121), "batch_size"),
    (dict(batch_size=2.5), "batch_size"),
    (dict(lr=0), "lr must be a number > 0, got 0"),
    (dict(lr=-1), "lr must be a number > 0, got -1"),
    (dict(lr=math.nan), "lr must be a number > 0, got nan"),
    (dict(num_epochs=0), "num_epochs"),
])
def test_bad_hyperparameters_are_clear_errors(kwargs, message):
    X, y = _blobs()
    settings = dict(num_epochs=1, batch_size=8, lr=0.1)
    settings.update(kwargs)
    with pytest.raises(MxdlError, match=message):
        train.fit(_net(), LOSS, (X, y), **settings)


def test_empty_or_mismatched_data_are_clear_errors():
    X, y = _blobs()
    with pytest.raises(MxdlError, match="empty"):
        train.fit(_net(), LOSS, (X[:0], y[:0]), num_epochs=1, batch_size=None, lr=0.1)
    with pytest.raises(MxdlError, match="labels"):
        train.fit(_net(), LOSS, (X, y[:-1]), num_epochs=1, batch_size=8, lr=0.1)


def test_history_files(tmp_path):
    X, y = _blobs()
    history = train.fit(_net(), LOSS, (X, y), (X, y), num_epochs=2, batch_size=30, lr=0.1)
    history.to_csv(tmp_path / "h.csv")
    history.to_json(tmp_path / "h.json")
    lines = (tmp_path / "h.csv").read_text().splitlines()
    assert lines[0].split(",") == train.History.fields and len(lines) == 3
    import json
    rows = json.loads((tmp_path / "h.json").read_text())
    assert [r["cost"] for r in rows] == history.column("cost")


def test_evaluate_and_predict_agree():
    X, y = _blobs()
    net = _net()
    train.fit(net, LOSS, (X, y), num_epochs=3, batch_size=16, lr=0.5, seed=0)
    cost, accuracy = train.evaluate(net, X, y, loss_fn=LOSS, batch_size=7)
    y_hat = train.predict(net, X, batch_size=7)
    assert y_hat.shape == (120, 3)
    assert accuracy == pytest.approx(np.mean(y_hat.argmax(axis=1) == y))
    expected_cost = np.mean(-np.log(np.exp(y_hat)[np.arange(120), y] / np.exp(y_hat).sum(axis=1)))
    assert cost == pytest.approx(expected_cost, rel=1e-3)  # float32 vs float64


@pytest.mark.parametrize("batch_size", [1, 3])  # batches smaller than / not divisible by 2 devices
def test_two_contexts_with_batches_smaller_than_the_devices(batch_size):
    X, y = _blobs(7)
    one = _net(mx.cpu(0))
    train.fit(one, LOSS, (X, y), num_epochs=1, batch_size=batch_size, lr=0.5, seed=2)
    two = _net([mx.cpu(0), mx.cpu(1)])
    train.fit(two, LOSS, (X, y), (X[:1], y[:1]), num_epochs=1, batch_size=batch_size, lr=0.5, seed=2,
              ctx=[mx.cpu(0), mx.cpu(1)])
    np.testing.assert_allclose(two.weight.data(mx.cpu(1)).asnumpy(), one.weight.data().asnumpy(), atol=1e-5)


def test_a_callers_trainer_without_kvstore_on_several_devices_is_refused():
    X, y = _blobs()
    net = _net([mx.cpu(0), mx.cpu(1)])
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1}, kvstore=None)
    with pytest.raises(MxdlError, match="kvstore"):
        train.fit(net, LOSS, (X, y), num_epochs=1, batch_size=8, lr=0.1, trainer=trainer,
                  ctx=[mx.cpu(0), mx.cpu(1)])


def test_regression_has_no_accuracy():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(64, 4)).astype("float32")
    y = X @ np.array([1.0, -2.0, 0.5, 3.0], dtype="float32")
    net = gluon.nn.Dense(1, in_units=4)
    net.initialize()
    history = train.fit(net, gluon.loss.L2Loss(), (X, y), (X, y), num_epochs=30, batch_size=8, lr=0.1,
                        to_label=None, seed=0)
    assert math.isnan(history.last.train_acc) and math.isnan(history.last.test_acc)
    assert history.last.cost < 0.01 * history[0].cost
