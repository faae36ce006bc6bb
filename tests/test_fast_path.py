"""Speed must not change the maths: ``fit``'s fast path (mxdl.engine) against the talk's loop.

The fast path (hybridized net + loss in one graph, the batch's summed loss and right answers
computed in that graph, batches gathered by ``take`` in a shuffled order, host syncs only every
``sync_every`` batches) must give the same parameters, cost and training accuracy as the talk's
loop, :func:`mxdl.train.train_epoch`: numpy batches in the same order, an un-hybridized net,
``loss.backward()`` and ``trainer.step(true batch size)`` -- and it must actually be the path taken.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import mxnet as mx
from mxnet import autograd, gluon, nd

from mxdl import engine, env as mxdl_env, train
from mxdl.errors import DivergedError
from mxdl.models import get_model
from mxdl.utils import seed_everything

LOSS = gluon.loss.SoftmaxCrossEntropyLoss()


def _data(n, seed=0):
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 10, size=n).astype(np.int32)
    X = rng.uniform(0, 1, size=(n, 1, 28, 28)).astype(np.float32) * 0.5
    X[np.arange(n), 0, y, y] += 1.0  # a learnable signal: a bright pixel on the diagonal at (y, y)
    return X, y


def _twins(name):
    """Two copies of model ``name`` with identical initial parameters."""
    seed_everything(3)
    a, b = get_model(name), get_model(name)
    for pa, pb in zip(a.collect_params().values(), b.collect_params().values()):
        pb.set_data(pa.data())
    return a, b


def _params(net):
    return [p.data().asnumpy() for p in net.collect_params().values()]


def _plain_loop(net, X, y, *, batch_size, lr, num_epochs, seed, momentum=0.0, wd=0.0, trainer=None):
    """The talk's loop (the public train.train_epoch) with Gluon's own Trainer, on numpy batches
    visiting the samples in the order fit documents for ``seed``.

    Returns per-epoch (cost, train accuracy) as seen during the epoch, like fit's History.
    """
    if trainer is None:
        trainer = gluon.Trainer(net.collect_params(), "sgd", _sgd_params(lr, momentum, wd))
    rng = np.random.RandomState(seed)
    order = np.arange(len(X))
    epochs = []
    for _ in range(num_epochs):
        order = order[rng.permutation(len(X))]  # as if the data set were reshuffled in place
        batches = [(nd.array(X[order[start:start + batch_size]]), nd.array(y[order[start:start + batch_size]]))
                   for start in range(0, len(X), batch_size)]
        cost, accuracy, updates = train.train_epoch(net, LOSS, trainer, batches)
        assert updates == -(-len(X) // batch_size)
        epochs.append((cost, accuracy))
    return epochs


def _sgd_params(lr, momentum=0.0, wd=0.0):
    params = {"learning_rate": lr}
    if momentum:
        params["momentum"] = momentum
    if wd:
        params["wd"] = wd
    return params


@pytest.fixture
def bound_steps(monkeypatch):
    """Counts the updates made by the engine's executor steps (the fast path): LeanStep's and
    BoundStep's alike."""
    return _FastSteps(monkeypatch)


class _FastSteps(list):
    """The sizes of the updates made by the engine's executor steps; ``.lean``, ``.bound``: by kind."""

    def __init__(self, monkeypatch):
        super().__init__()
        self.lean, self.bound = [], []
        for kind, calls in ((engine.LeanStep, self.lean), (engine.BoundStep, self.bound)):
            original = kind.step

            def counted(step, start, stop, original=original, calls=calls):
                calls.append(stop - start)
                self.append(stop - start)
                return original(step, start, stop)

            monkeypatch.setattr(kind, "step", counted)

    def clear(self):
        del self[:], self.lean[:], self.bound[:]


def test_fit_takes_the_fast_path_where_it_should_and_only_there(bound_steps):
    X, y = _data(100)
    fast, plain = _twins("mlp")
    train.fit(fast, LOSS, (X, y), num_epochs=2, batch_size=32, lr=0.1, seed=7)
    assert bound_steps == [32, 32, 32, 4] * 2  # every update of both epochs, the short batch too
    assert bound_steps.lean == bound_steps  # plain SGD: the lean step
    bound_steps.clear()
    history = train.fit(plain, LOSS, (X, y), num_epochs=2, batch_size=32, lr=0.1, seed=7, fast=False)
    assert bound_steps == [] and history.column("updates") == [4, 4]  # the talk's loop instead
    for got, want in zip(_params(fast), _params(plain)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    for settings in (dict(hybridize=False), dict(to_label=lambda y_hat: y_hat.argmax(axis=1))):
        train.fit(_twins("mlp")[0], LOSS, (X, y), num_epochs=1, batch_size=32, lr=0.1, **settings)
        assert bound_steps == [], settings  # these need the general path


def test_without_the_engine_the_fast_path_tests_fail(monkeypatch, bound_steps):
    """The fast-path test above can fail: with the executor steps unusable (BoundStep.usable gates
    LeanStep too) the counter sees no fast updates, where it sees [16, 16, 8] otherwise."""
    X, y = _data(40)
    train.fit(_twins("mlp")[0], LOSS, (X, y), num_epochs=1, batch_size=16, lr=0.1, seed=7)
    assert bound_steps == bound_steps.lean == [16, 16, 8]
    bound_steps.clear()
    monkeypatch.setattr(engine.BoundStep, "usable", staticmethod(lambda *args: False))
    train.fit(_twins("mlp")[0], LOSS, (X, y), num_epochs=1, batch_size=16, lr=0.1, seed=7)
    assert bound_steps == []


@pytest.mark.parametrize("name, n, batch_size", [("mlp", 150, 32), ("lenet", 40, 16)])
def test_fast_path_equals_plain_loop_with_shuffling(name, n, batch_size):
    X, y = _data(n)  # n is not a multiple of batch_size: a short last batch every epoch
    fast, plain = _twins(name)
    history = train.fit(fast, LOSS, (X, y), num_epochs=2, batch_size=batch_size, lr=0.1, seed=7,
                        sync_every=3)
    reference = _plain_loop(plain, X, y, batch_size=batch_size, lr=0.1, num_epochs=2, seed=7)
    for got, want in zip(_params(fast), _params(plain)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    for stats, (cost, accuracy) in zip(history, reference):
        assert stats.cost == pytest.approx(cost, rel=1e-4)
        assert stats.train_acc == pytest.approx(accuracy, abs=1e-9)
    assert _params(fast)[0].tolist() != _params(_twins(name)[0])[0].tolist()  # it did train


@pytest.mark.slow
def test_bit_for_bit_also_with_two_spinning_threads():
    """``mxdl-mnist --model mlp --batch-size 32`` and up (and LeNet) train with two OpenMP threads
    (mxdl.env.MODEL_DEFAULTS): the lean step must be Gluon's Trainer bit for bit there too, so the
    bit-for-bit cases below run again, in a process with those settings."""
    environ = {**os.environ, **mxdl_env.TWO_SPINNING_THREADS}
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__,
                          "-k", "test_lean_step_is_gluons_sgd_bit_for_bit"], env=environ,
                         capture_output=True, text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.returncode == 0, out.stdout[-3000:]
    assert "\n8 passed" in out.stdout


@pytest.mark.parametrize("name, n, batch_size, momentum, wd", [
    ("logreg", 50, 1, 0.0, 0.0),  # the talk's SGD: batch 1
    ("mlp", 60, 1, 0.0, 0.0),
    ("mlp", 61, 8, 0.9, 0.0),  # momentum (a short last batch too)
    ("mlp", 61, 8, 0.0, 1e-3),  # weight decay
    ("mlp", 300, 64, 0.0, 0.0),  # mxdl-mnist --model mlp's batch (two OpenMP threads there: see below)
    ("mlp", 600, 256, 0.9, 1e-3),
    ("mlp", 45, 1, 0.9, 1e-3),  # both, at batch 1
    ("lenet", 20, 1, 0.9, 1e-3),
])
def test_lean_step_is_gluons_sgd_bit_for_bit(bound_steps, name, n, batch_size, momentum, wd):
    """The lean step (one update of all parameters as one flat array, the batch gathered and the
    statistics kept inside the graph) gives exactly Gluon's Trainer's parameters, momentum and
    update counts -- not merely close ones."""
    X, y = _data(n)
    fast, plain = _twins(name)
    history = train.fit(fast, LOSS, (X, y), num_epochs=2, batch_size=batch_size, lr=0.05, seed=7,
                        momentum=momentum, wd=wd, sync_every=7)
    assert len(bound_steps.lean) == 2 * -(-n // batch_size) and not bound_steps.bound
    trainer = gluon.Trainer(plain.collect_params(), "sgd", _sgd_params(0.05, momentum, wd))
    reference = _plain_loop(plain, X, y, batch_size=batch_size, lr=0.05, num_epochs=2, seed=7,
                            trainer=trainer)
    for got, want in zip(_params(fast), _params(plain)):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(fast.collect_params().values(), plain.collect_params().values()):
        np.testing.assert_array_equal(got.grad().asnumpy(), want.grad().asnumpy())  # the last gradient
    for stats, (cost, accuracy) in zip(history, reference):
        assert stats.cost == pytest.approx(cost, rel=1e-5)  # (summed in float32 on the device)
        assert stats.train_acc == pytest.approx(accuracy, abs=1e-9)
    assert _params(fast)[0].tolist() != _params(_twins(name)[0])[0].tolist()  # it did train


def test_lean_step_keeps_momentum_and_counts_across_fits_and_follows_a_schedule(bound_steps):
    """Two fits of one epoch with the caller's trainer (momentum, a learning-rate schedule) are two
    epochs of Gluon's: the momentum states and update counts go back into the Trainer."""
    X, y = _data(30)
    fast, plain = _twins("mlp")
    trainers = [gluon.Trainer(net.collect_params(), "sgd", {
        "learning_rate": 0.1, "momentum": 0.9,
        "lr_scheduler": mx.lr_scheduler.FactorScheduler(step=7, factor=0.5)}) for net in (fast, plain)]
    for _ in range(2):
        train.fit(fast, LOSS, (X, y), num_epochs=1, batch_size=4, lr=0.1, seed=3, trainer=trainers[0])
        _plain_loop(plain, X, y, batch_size=4, lr=0.1, num_epochs=1, seed=3, trainer=trainers[1])
    assert len(bound_steps.lean) == 16
    for got, want in zip(_params(fast), _params(plain)):
        np.testing.assert_array_equal(got, want)
    states = [trainer._updaters[0].states for trainer in trainers]
    assert sorted(states[0]) == sorted(states[1])
    for index in states[1]:
        np.testing.assert_array_equal(states[0][index].asnumpy(), states[1][index].asnumpy())
    assert trainers[0]._optimizer.num_update == trainers[1]._optimizer.num_update == 16
    assert trainers[0]._optimizer.rescale_grad == trainers[1]._optimizer.rescale_grad  # 1 / 2 (30 % 4)


def test_other_optimizers_multipliers_and_trainers_take_the_bound_step(bound_steps):
    X, y = _data(40)
    net = _twins("mlp")[0]
    adam = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.01})
    train.fit(net, LOSS, (X, y), num_epochs=1, batch_size=16, lr=0.01, trainer=adam)
    assert bound_steps.bound == [16, 16, 8] and not bound_steps.lean
    bound_steps.clear()
    net = _twins("mlp")[0]
    net[0].weight.lr_mult = 0.5  # one learning rate for all is what one flat update can do
    train.fit(net, LOSS, (X, y), num_epochs=1, batch_size=16, lr=0.01)
    assert bound_steps.bound == [16, 16, 8] and not bound_steps.lean
    bound_steps.clear()

    class AllReducing(gluon.Trainer):  # as Horovod's DistributedTrainer: its own gradient exchange
        def _allreduce_grads(self):
            self.allreduced = getattr(self, "allreduced", 0) + 1

    net = _twins("mlp")[0]
    trainer = AllReducing(net.collect_params(), "sgd", {"learning_rate": 0.01})
    train.fit(net, LOSS, (X, y), num_epochs=1, batch_size=16, lr=0.01, trainer=trainer)
    assert bound_steps.bound == [16, 16, 8] and trainer.allreduced == 3


def test_lean_step_leaves_the_parameters_right_when_training_diverges(bound_steps):
    """A NaN cost stops fit mid-epoch; the Parameters still hold where training got to."""
    X, y = _data(40)
    net = _twins("mlp")[0]
    with pytest.raises(DivergedError):
        train.fit(net, LOSS, (X * 1e30, y), num_epochs=1, batch_size=1, lr=1e10, sync_every=5)
    assert bound_steps.lean
    assert not np.isfinite(_params(net)[0]).all()  # the diverged values, not the initial ones


def test_custom_to_label_takes_the_general_path_with_the_same_numbers():
    X, y = _data(120)
    default, custom = _twins("mlp")
    h_default = train.fit(default, LOSS, (X, y), num_epochs=2, batch_size=25, lr=0.1, seed=1)
    h_custom = train.fit(custom, LOSS, (X, y), num_epochs=2, batch_size=25, lr=0.1, seed=1,
                         to_label=lambda y_hat: y_hat.argmax(axis=1))
    for got, want in zip(_params(custom), _params(default)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert h_custom.column("train_acc") == pytest.approx(h_default.column("train_acc"), abs=1e-9)
    assert h_custom.column("cost") == pytest.approx(h_default.column("cost"), rel=1e-5)


def test_unshuffled_and_imperative_paths_agree_with_the_talks_loop():
    X, y = _data(100)  # 100 = 3 * 30 + 10: a short last batch
    fast, slow = _twins("mlp")
    plain = _twins("mlp")[1]
    train.fit(fast, LOSS, (X, y), num_epochs=1, batch_size=30, lr=0.1, shuffle=False)
    train.fit(slow, LOSS, (X, y), num_epochs=1, batch_size=30, lr=0.1, shuffle=False, hybridize=False)
    train.fit(plain, LOSS, (X, y), num_epochs=1, batch_size=30, lr=0.1, shuffle=False, fast=False)
    for got, imperative, want in zip(_params(fast), _params(slow), _params(plain)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(imperative, want, rtol=1e-4, atol=1e-5)


def test_sgd_trainer_updates_like_gluons_trainer():
    """mxdl's lean plain-SGD update against Gluon's own, with weight decay and a per-layer lr_mult."""
    X, y = _data(64)
    lean, plain = _twins("mlp")
    for net in (lean, plain):
        net[0].weight.lr_mult = 0.5
    trainers = (train.make_trainer(lean, 0.1, wd=1e-3),
                gluon.Trainer(plain.collect_params(), "sgd", {"learning_rate": 0.1, "wd": 1e-3}))
    for start in range(0, 64, 16):
        for net, trainer in zip((lean, plain), trainers):
            with autograd.record():
                loss = LOSS(net(nd.array(X[start:start + 16])), nd.array(y[start:start + 16]))
            loss.backward()
            trainer.step(16)
    assert trainers[0]._plain_sgd()  # the lean path was the one taken
    assert trainers[0]._optimizer.num_update == trainers[1]._optimizer.num_update == 4
    for got, want in zip(_params(lean), _params(plain)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_sgd_trainer_refuses_stale_gradients_like_gluon():
    net = get_model("logreg")
    trainer = train.make_trainer(net, 0.1)
    with autograd.record():
        loss = LOSS(net(nd.array(_data(4)[0])), nd.array(_data(4)[1]))
    loss.backward()
    trainer.step(4)
    with pytest.raises(UserWarning, match="has not been updated by backward"):
        trainer.step(4)  # no backward since the last step


def test_momentum_takes_gluons_update():
    X, y = _data(60)
    fast, plain = _twins("mlp")
    train.fit(fast, LOSS, (X, y), num_epochs=1, batch_size=20, lr=0.1, momentum=0.9, shuffle=False)
    trainer = gluon.Trainer(plain.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9})
    for start in range(0, 60, 20):
        with autograd.record():
            loss = LOSS(plain(nd.array(X[start:start + 20])), nd.array(y[start:start + 20]))
        loss.backward()
        trainer.step(20)
    for got, want in zip(_params(fast), _params(plain)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("env, expected", [
    ({}, {"OMP_NUM_THREADS": "1", "MXNET_SUBGRAPH_VERBOSE": "0"}),
    ({"OMP_NUM_THREADS": "3"}, {"OMP_NUM_THREADS": "3", "MXNET_SUBGRAPH_VERBOSE": "0"}),
    ({"MXDL_ENV_DEFAULTS": "0"}, {"OMP_NUM_THREADS": None, "MXNET_SUBGRAPH_VERBOSE": None}),
])
def test_speed_defaults_are_set_on_import_and_can_be_overridden(env, expected):
    """What the benchmark measured is what ``import mxdl`` sets, unless the user set it first."""
    assert set(expected) == set(mxdl_env.DEFAULTS)
    code = ("import json, os, mxdl, mxnet; "
            "print(json.dumps({k: os.environ.get(k) for k in ('OMP_NUM_THREADS', 'MXNET_SUBGRAPH_VERBOSE')}))")
    base = {k: v for k, v in os.environ.items()
            if k not in ("OMP_NUM_THREADS", "MXDL_ENV_DEFAULTS") and not k.startswith("MXNET_")}
    out = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True,
                         text=True, check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == expected


ONE_THREAD = {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": None}
TWO_SPINNING = {"OMP_NUM_THREADS": "2", "OMP_WAIT_POLICY": "ACTIVE"}


@pytest.mark.parametrize("argv, env, expected", [
    (["lenet"], {}, TWO_SPINNING),
    (["lenet", "1"], {}, TWO_SPINNING),
    (["lenet"], {"OMP_NUM_THREADS": "3"}, {"OMP_NUM_THREADS": "3", "OMP_WAIT_POLICY": "ACTIVE"}),
    (["mlp"], {}, ONE_THREAD),           # batch size not known: as if 1
    (["mlp", "1"], {}, ONE_THREAD),      # the talk's SGD: fork/join would cost more than it saves
    (["mlp", "16"], {}, ONE_THREAD),
    (["mlp", "32"], {}, TWO_SPINNING),   # from batch 32 on, the first layer's GEMM is worth sharing
    (["mlp", "256"], {}, TWO_SPINNING),
    (["mlp", "256"], {"OMP_WAIT_POLICY": "PASSIVE"}, {"OMP_NUM_THREADS": "2", "OMP_WAIT_POLICY": "PASSIVE"}),
    (["logreg"], {}, ONE_THREAD),
    (["logreg", "128"], {}, ONE_THREAD),
    (["logreg", "256"], {}, TWO_SPINNING),  # the logistic regression's small layer: from 256 on
    (["lenet"], {"MXDL_ENV_DEFAULTS": "0"}, {"OMP_NUM_THREADS": None, "OMP_WAIT_POLICY": None}),
    (["mlp", "256"], {"MXDL_ENV_DEFAULTS": "0"}, {"OMP_NUM_THREADS": None, "OMP_WAIT_POLICY": None}),
])
def test_model_defaults_replace_mxdls_own_before_mxnet_is_imported(argv, env, expected):
    """mxdl-mnist's way: LeNet, and the mlp from batch 32 on, get their own threads; a user's setting
    still wins."""
    code = ("import json, os, sys; from mxdl import env; "
            "env.configure(sys.argv[1], *map(int, sys.argv[2:])); import mxnet; "
            "print(json.dumps({k: os.environ.get(k) for k in ('OMP_NUM_THREADS', 'OMP_WAIT_POLICY')}))")
    base = {k: v for k, v in os.environ.items()
            if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "MXDL_ENV_DEFAULTS")}
    out = subprocess.run([sys.executable, "-c", code, *argv], env={**base, **env}, capture_output=True,
                         text=True, check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == expected


def test_model_defaults_come_too_late_once_mxnet_is_imported(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert "mxnet" in sys.modules  # this test process has long imported it
    assert mxdl_env.configure("lenet") == [] and "OMP_WAIT_POLICY" not in os.environ


@pytest.mark.parametrize("flags, expected", [
    (["--model", "lenet"], "2 ACTIVE"),
    (["--model", "mlp", "--batch-size", "256"], "2 ACTIVE"),
    (["--model", "mlp", "--batch-size", "1"], "1 None"),
    (["--model", "logreg"], "1 None"),                          # the demo: batch 64
    (["--model", "logreg", "--batch-size", "256"], "2 ACTIVE"),
    (["--model", "lenet", "--ctx", "gpu"], "1 None"),             # the work is on the device
    (["--model", "mlp", "--ctx", "cpu:0,cpu:1"], "1 None"),       # two engine workers share the cores
    (["--model", "mlp", "--batch-size", "256", "--kvstore", "dist_sync"], "1 None"),  # ps-lite's processes too
])
def test_the_mnist_command_configures_the_model_before_importing_mxnet(flags, expected):
    """``mxdl-mnist --model lenet`` parses its flags, then env.configure, then MXNet: in a fresh
    process, the run's settings are left behind (configure does nothing once MXNet is imported)."""
    code = "\n".join([
        "import os, sys",
        "import mxdl",
        "assert 'mxnet' not in sys.modules, 'import mxdl imported MXNet'",
        "from mxdl.commands.mnist import main",
        "assert 'mxnet' not in sys.modules, 'importing the command imported MXNet'",
        # a data directory that does not exist: refused after configure, before any training
        f"code = main({flags!r} + ['--data-dir', '/nonexistent/mxdl-test'])",
        "print(code, 'mxnet' in sys.modules, os.environ.get('OMP_NUM_THREADS'), os.environ.get('OMP_WAIT_POLICY'))",
    ])
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    out = subprocess.run([sys.executable, "-c", code], env=base, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == f"1 True {expected}"


def test_a_schedule_changes_the_lean_update_in_place(monkeypatch):
    """Under a schedule the learning rate changes at every update: the lean step keeps one update
    call a batch size and gives it the new rate (not a new call per rate, kept for ever)."""
    steps = []
    begin = engine.LeanStep.begin_epoch
    monkeypatch.setattr(engine.LeanStep, "begin_epoch", lambda self, *a: steps.append(self) or begin(self, *a))
    X, y = _data(30)
    net = _twins("logreg")[0]
    trainer = gluon.Trainer(net.collect_params(), "sgd", {
        "learning_rate": 0.1, "lr_scheduler": mx.lr_scheduler.CosineScheduler(60, 0.1)})
    train.fit(net, LOSS, (X, y), num_epochs=2, batch_size=1, lr=0.1, seed=3, trainer=trainer)
    assert len(steps) == 2 and steps[0] is steps[1]
    assert list(steps[0]._updates) == [1]  # 60 updates at 60 learning rates: one call
    assert steps[0]._updates[1]._params["lr"] == trainer.learning_rate == 0.0  # the schedule's last
