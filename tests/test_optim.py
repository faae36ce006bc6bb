"""Optimisers by MXNet registry name and lr schedules in epochs, built from mx.lr_scheduler."""
import math

import numpy as np
import pytest
from mxnet import gluon

from conftest import blobs
from mxdl.errors import MxdlError
from mxdl.optim import list_optimizers, make_lr_scheduler, optimizer_params
from mxdl.train import fit
from mxdl.utils import seed_everything


def test_registry_names():
    names = list_optimizers()
    assert {"sgd", "nag", "adam", "rmsprop", "adagrad", "adadelta"} <= set(names)
    assert "test" not in names


@pytest.mark.parametrize("name, lr, hyper", [("sgd", 0.1, {"momentum": 0.9}), ("nag", 0.1, {"momentum": 0.9}),
                                             ("adam", 0.01, {"beta1": 0.9, "wd": 1e-4}),
                                             ("rmsprop", 0.01, {"gamma1": 0.9}), ("adagrad", 0.1, {})])
def test_each_optimizer_trains_through_gluon_trainer(name, lr, hyper):
    seed_everything(0)
    X, y = blobs(240)
    net = gluon.nn.Dense(3, in_units=2)
    net.initialize()
    trainer = gluon.Trainer(net.collect_params(), name, optimizer_params(name, lr, **hyper))
    history = fit(net, gluon.loss.SoftmaxCrossEntropyLoss(), (X, y), num_epochs=3, batch_size=16, lr=lr,
                  trainer=trainer)
    assert history.last.cost < history[0].cost and history.last.train_acc > 0.9
    assert type(trainer._optimizer).__name__.lower() == name


def test_a_flag_the_optimizer_does_not_take_is_an_error_naming_it():
    with pytest.raises(MxdlError, match="optimizer adam takes no --momentum"):
        optimizer_params("adam", 0.01, momentum=0.9)
    assert "momentum" not in optimizer_params("adam", 0.01, momentum=0.0, wd=0.0, beta1=None)
    with pytest.raises(MxdlError, match="unknown optimizer 'adamw'"):
        optimizer_params("adamw", 0.01)


def _lr(scheduler, update):
    return scheduler(update)


def test_schedules_are_in_epochs():
    per_epoch = 10
    factor = make_lr_scheduler("factor", lr=0.1, updates_per_epoch=per_epoch, num_epochs=6, factor=0.5,
                               step_epochs=[2])
    assert [_lr(factor, u) for u in (1, 20, 21, 41)] == pytest.approx([0.1, 0.1, 0.05, 0.025])
    multi = make_lr_scheduler("multifactor", lr=0.1, updates_per_epoch=per_epoch, num_epochs=6,
                              factor=0.1, step_epochs=[1, 4])
    assert [_lr(multi, u) for u in (5, 11, 35, 41)] == pytest.approx([0.1, 0.01, 0.01, 0.001])
    cosine = make_lr_scheduler("cosine", lr=0.1, updates_per_epoch=per_epoch, num_epochs=4,
                               final_lr=0.001)
    assert _lr(cosine, 20) == pytest.approx((0.1 + 0.001) / 2) and _lr(cosine, 40) == pytest.approx(0.001)
    poly = make_lr_scheduler("poly", lr=0.1, updates_per_epoch=per_epoch, num_epochs=4, power=2)
    assert _lr(poly, 20) == pytest.approx(0.1 * 0.5 ** 2)


def test_warmup_ramps_linearly_over_the_warmup_epochs():
    scheduler = make_lr_scheduler("cosine", lr=0.2, updates_per_epoch=10, num_epochs=5, warmup_epochs=1,
                                  warmup_begin_lr=0.0)
    assert [_lr(scheduler, u) for u in (0, 5, 10)] == pytest.approx([0.0, 0.1, 0.2])
    assert _lr(scheduler, 30) < 0.2


@pytest.mark.parametrize("kind, kwargs, message", [
    ("step", {}, "unknown lr schedule"),
    ("cosine", {"warmup_epochs": 4}, "shorter than the run"),
    ("cosine", {"final_lr": 0.5}, "must be below --lr"),
    ("multifactor", {"step_epochs": [3, 2]}, "increasing epochs"),
    ("factor", {"warmup_begin_lr": 1.0}, "must not be above --lr"),
])
def test_bad_schedule_settings_are_clear_errors(kind, kwargs, message):
    with pytest.raises(MxdlError, match=message):
        make_lr_scheduler(kind, lr=0.1, updates_per_epoch=10, num_epochs=4, **kwargs)


def test_schedule_drives_the_fast_sgd_trainer():
    from mxdl.train import make_trainer
    seed_everything(0)
    X, y = blobs(160)
    net = gluon.nn.Dense(3, in_units=2)
    net.initialize()
    trainer = make_trainer(net, 0.1)
    trainer._optimizer.lr_scheduler = make_lr_scheduler("factor", lr=0.1, updates_per_epoch=10,
                                                        num_epochs=3, factor=0.5)
    fit(net, gluon.loss.SoftmaxCrossEntropyLoss(), (X, y), num_epochs=3, batch_size=16, lr=0.1,
        trainer=trainer)
    assert trainer._optimizer.num_update == 30 and math.isclose(trainer.learning_rate, 0.025)
    assert np.isfinite(net.weight.data().asnumpy()).all()


def test_the_flags_list_of_optimizers_is_mxnets_registry():
    from mxdl.config import OPTIMIZERS
    assert list(OPTIMIZERS) == list_optimizers()
