"""Checkpoints: 2 epochs + a checkpoint + 2 more == 4 epochs in one go; atomic writes; clear errors."""
import json
import os
import random
import zipfile

import numpy as np
import pytest
from mxnet import gluon

from conftest import synthetic_digits
from mxdl.checkpoint import (CHECKPOINT_NAME, CheckpointError, capture_rng, check_compatible,
                             load_checkpoint, restore_rng, save_checkpoint)
from mxdl.models import get_model
from mxdl.train import fit
from mxdl.utils import seed_everything

DATA = {"input_shape": [1, 28, 28], "num_classes": 10}


def _digits(n, seed):
    images, labels = synthetic_digits(n, seed=seed)
    return images[:, None].astype("float32") / 255, labels.astype("float32")


TRAIN, TEST = _digits(256, 0), _digits(64, 1)


def _net_and_trainer(optimizer, seed):
    seed_everything(seed)
    net = get_model("mlp")
    params = {"learning_rate": 0.05, "momentum": 0.9} if optimizer == "sgd" else {"learning_rate": 0.01}
    return net, gluon.Trainer(net.collect_params(), optimizer, params)


def _fit(net, trainer, epochs):
    return fit(net, gluon.loss.SoftmaxCrossEntropyLoss(), TRAIN, TEST, num_epochs=epochs, batch_size=32,
               lr=trainer.learning_rate, shuffle=False, trainer=trainer)


def _weights(net):
    return {name[name.index("_") + 1:]: p.data().asnumpy() for name, p in net.collect_params().items()}


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])  # momentum, and Adam's moments and counts
def test_two_plus_two_epochs_equal_four(tmp_path, optimizer):
    net, trainer = _net_and_trainer(optimizer, seed=3)
    whole = _fit(net, trainer, 4)

    first, first_trainer = _net_and_trainer(optimizer, seed=3)
    history = _fit(first, first_trainer, 2)
    path = save_checkpoint(tmp_path / CHECKPOINT_NAME, first, first_trainer, epoch=2, history=history,
                           config={"model": "mlp", "optimizer": optimizer}, data=DATA)

    checkpoint = load_checkpoint(tmp_path)  # the run directory finds its checkpoint.ckpt
    assert checkpoint.path == str(path) and checkpoint.epoch == 2 and len(checkpoint.history) == 2
    assert checkpoint.history[1]["cost"] == pytest.approx(history[1].cost)
    resumed, resumed_trainer = _net_and_trainer(optimizer, seed=99)  # other initial weights
    checkpoint.restore(resumed, resumed_trainer)
    rest = _fit(resumed, resumed_trainer, 2)
    expected = _weights(net)
    for name, value in _weights(resumed).items():
        np.testing.assert_allclose(value, expected[name], rtol=1e-5, atol=1e-6, err_msg=name)
    assert rest.last.cost == pytest.approx(whole.last.cost, rel=1e-5)

    # The optimiser state matters: weights alone do not continue the run.
    weights_only, fresh_trainer = _net_and_trainer(optimizer, seed=99)
    checkpoint.restore(weights_only)
    _fit(weights_only, fresh_trainer, 2)
    assert any(not np.allclose(v, expected[k], rtol=1e-5, atol=1e-6)
               for k, v in _weights(weights_only).items())


def test_a_failed_save_leaves_the_previous_checkpoint_intact(tmp_path):
    net, trainer = _net_and_trainer("sgd", seed=0)
    path = tmp_path / "c.ckpt"
    save_checkpoint(path, net, trainer, epoch=1, history=[], config={}, data=DATA)
    before = path.read_bytes()

    def broken(fname):
        with open(fname, "wb") as f:
            f.write(b"half")
        raise OSError("disk full")

    trainer.save_states = broken
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, net, trainer, epoch=2, history=[], config={}, data=DATA)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["c.ckpt"]
    assert load_checkpoint(path).epoch == 1


def test_incompatible_config_or_data_is_one_clear_error(tmp_path):
    net, trainer = _net_and_trainer("sgd", seed=0)
    save_checkpoint(tmp_path / "c.ckpt", net, trainer, epoch=1, history=[],
                    config={"model": "mlp", "optimizer": "sgd", "lr": 0.1}, data=DATA)
    checkpoint = load_checkpoint(tmp_path / "c.ckpt")
    check_compatible(checkpoint, {"model": "mlp", "optimizer": "sgd", "lr": 0.5}, DATA)  # lr may change
    with pytest.raises(CheckpointError, match=r"model 'mlp' \(this run: 'lenet'\)"):
        check_compatible(checkpoint, {"model": "lenet", "optimizer": "sgd"}, DATA)
    with pytest.raises(CheckpointError, match=r"input shape \[1, 28, 28\] \(this run: \[3, 32, 32\]\)"):
        check_compatible(checkpoint, {"model": "mlp"}, {"input_shape": (3, 32, 32), "num_classes": 10})
    with pytest.raises(CheckpointError, match="do not fit this model"):
        checkpoint.restore(get_model("logreg"))


@pytest.mark.parametrize("content, message", [(None, "no checkpoint in run directory"),
                                              (b"PK\x03\x04 truncated", "cannot read checkpoint"),
                                              ("zip-without-meta", "not an mxdl checkpoint")])
def test_missing_or_damaged_checkpoint_is_one_clear_error(tmp_path, content, message):
    target = tmp_path
    if content == "zip-without-meta":
        target = tmp_path / "x.ckpt"
        with zipfile.ZipFile(target, "w") as archive:
            archive.writestr("other.txt", "hello")
    elif content is not None:
        target = tmp_path / "x.ckpt"
        target.write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(target)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.ckpt")


def test_rng_states_round_trip_through_json():
    shuffle_rng = np.random.RandomState(5)
    seed_everything(7)
    state = json.loads(json.dumps(capture_rng(shuffle_rng, seed=7)))  # as a checkpoint stores it
    expected = (random.random(), np.random.rand(), shuffle_rng.permutation(10).tolist())
    seed_everything(123)
    shuffle_rng.permutation(50)
    restore_rng(state, epoch=2, shuffle_rng=shuffle_rng)
    assert (random.random(), np.random.rand(), shuffle_rng.permutation(10).tolist()) == expected
