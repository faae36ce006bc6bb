"""One typed configuration for an MNIST run, whose defaults are the meetup demo's hyperparameters.

The demo trained a ``Dense(10)`` with ``gluon.Trainer(..., 'sgd', {'learning_rate': 0.1})`` on
mini-batches of 64 for 4 epochs: those are the defaults below.  The one setting we change by default
is the initialiser (the demo's ``Normal(sigma=1)`` costs accuracy, see :mod:`mxdl.models`); the
``meetup`` preset puts it back, so ``Config.from_preset('meetup')`` is the demo exactly.

Every field is one flag of ``mxdl-mnist`` (``num_epochs`` is ``--epochs``).

This module also holds the shared validators (:func:`check_choice`, :func:`check_int`,
:func:`check_number`, :func:`check_batch_size`) that every config's ``validate()`` and
:class:`mxdl.train.Settings` are built from: one message shape, ``<name> must be <what>, got <value>``.
It imports no MXNet, so a command line can check its flags before MXNet is imported.
"""
import dataclasses
import json
import math
from typing import Optional

import numpy as np

from .data import DATASETS
from .errors import MxdlError
from .models import check_init, list_models
from .utils import atomic_write

DEFAULT_DEVICE = "cpu"  # the one default device: every --ctx flag and config starts from it

KVSTORES = ("device", "local", "dist_sync", "dist_async")
DISTS = ("horovod",)  # the other distributed engine (None: the kvstore's)


@dataclasses.dataclass
class Config:
    """Everything one MNIST run needs: data, model, optimiser, devices and outputs."""

    model: str = "logreg"  # logreg (the demo), mlp or lenet
    dataset: str = "mnist"  # mnist, fashion-mnist or mnist-t10k (the real digits shipped with mxdl)
    data_dir: Optional[str] = None  # where the IDX files are (None: the standard places)
    download: bool = True  # may the data be downloaded when it is not found?
    batch_size: int = 64  # samples per update: 1 is SGD, N is gradient descent
    num_epochs: int = 4  # passes over the training data
    lr: float = 0.1  # learning rate: w <- w - lr * gradient
    momentum: float = 0.0
    wd: float = 0.0  # weight decay (L2 penalty)
    init: Optional[str] = None  # weight initialiser spec, e.g. 'normal:1'; None: the model's default
    ctx: str = DEFAULT_DEVICE  # cpu, gpu, gpu:N, auto, or a comma list
    kvstore: str = "device"  # how gradients are shared: device, local, dist_sync, dist_async
    dist: Optional[str] = None  # 'horovod': one rank of a horovodrun job (gradients by allreduce)
    seed: int = 1  # one seed, one run (initial weights and shuffling)
    shuffle: bool = True  # shuffle the training data every epoch (False: file order, e.g. to compare runs)
    limit: Optional[int] = None  # train on the first LIMIT samples only (the test set stays whole)
    out: Optional[str] = None  # directory for config.json, history, params and plots
    save: Optional[str] = None  # where to save the trained params
    load: Optional[str] = None  # params to start from instead of the initialiser
    hybridize: bool = True  # compile the net into one graph (faster; same numbers)
    quiet: bool = False  # no progress bar, config or model print-out; just the epoch lines

    def validate(self):
        """Raise :class:`~mxdl.errors.MxdlError` naming the first field with a value that cannot work."""
        check_choice("model", self.model, tuple(list_models()))
        check_choice("dataset", self.dataset, DATASETS)
        check_choice("kvstore", self.kvstore, KVSTORES)
        if self.dist is not None:
            check_choice("dist", self.dist, DISTS)
            if self.kvstore.startswith("dist"):
                raise MxdlError(f"choose one distributed engine: kvstore {self.kvstore} (ps-lite) or "
                                f"dist {self.dist}, not both")
        check_int("batch_size", self.batch_size, 1)
        check_int("num_epochs", self.num_epochs, 1)
        check_int("seed", self.seed, 0)
        if self.limit is not None:
            check_int("limit", self.limit, 1)
        check_number("lr", self.lr, above=0)
        check_number("momentum", self.momentum, minimum=0, below=1)
        check_number("wd", self.wd, minimum=0)
        if self.init is not None:
            check_init(self.init)
        return self

    def to_dict(self):
        return dataclasses.asdict(self)

    def to_json(self, path):
        """Write the config to ``path`` as JSON (atomically)."""
        with atomic_write(path, "w") as f:
            f.write(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def from_json(cls, path):
        """Read a config written by :meth:`to_json` (e.g. an earlier run's ``config.json``)."""
        try:
            with open(path, encoding="utf-8") as f:
                values = json.load(f)
        except (OSError, ValueError) as err:
            raise MxdlError(f"cannot read config {path}: {err}") from None
        return cls.from_dict(values)

    @classmethod
    def from_dict(cls, values):
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise MxdlError(f"unknown config field(s) {', '.join(unknown)}; fields are {', '.join(names)}")
        return cls(**values)

    @classmethod
    def from_preset(cls, name, **overrides):
        """The config of preset ``name`` (see :data:`PRESETS`), with ``overrides`` on top."""
        check_choice("preset", name, tuple(PRESETS))
        return cls(**{**PRESETS[name], **overrides})


# The meetup demo, every setting as it was on the night: Dense(10) initialised from Normal(sigma=1),
# plain SGD with lr 0.1, mini-batches of 64, 4 epochs, MNIST.
PRESETS = {
    "meetup": dict(model="logreg", dataset="mnist", init="normal:1", lr=0.1, batch_size=64,
                   num_epochs=4, momentum=0.0, wd=0.0),
}


# The shared validators: every config's validate() is built from these, so that every bad value
# is reported the same way, "<name> must be <what it must be>, got <value>".

def _fail(name, what, value):
    raise MxdlError(f"{name} must be {what}, got {value!r}")


def check_choice(name, value, choices):
    """``value`` is one of ``choices``."""
    if value not in choices:
        _fail(name, "one of " + ", ".join(str(c) for c in choices), value)
    return value


def check_int(name, value, minimum=None, maximum=None):
    """``value`` is an integer (not a bool) in ``[minimum, maximum]`` (either bound may be None)."""
    if minimum is not None and maximum is not None:
        what = f"an integer from {minimum} to {maximum}"
    elif minimum is not None:
        what = f"an integer >= {minimum}"
    else:
        what = "an integer" + (f" <= {maximum}" if maximum is not None else "")
    if (isinstance(value, bool) or not isinstance(value, (int, np.integer))
            or (minimum is not None and value < minimum) or (maximum is not None and value > maximum)):
        _fail(name, what, value)
    return value


def check_number(name, value, *, minimum=None, above=None, below=None, maximum=None):
    """``value`` is a finite number (not a bool) with the given bounds: ``>= minimum``, ``> above``,
    ``< below``, ``<= maximum``."""
    low = f"[{minimum}" if minimum is not None else (f"({above}" if above is not None else None)
    high = f"{below})" if below is not None else (f"{maximum}]" if maximum is not None else None)
    if low and high:
        what = f"a number in {low}, {high}"
    elif low:
        what = f"a number {'>=' if minimum is not None else '>'} {low[1:]}"
    elif high:
        what = f"a number {'<' if below is not None else '<='} {high[:-1]}"
    else:
        what = "a number"
    ok = (not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
          and math.isfinite(value)
          and (minimum is None or value >= minimum) and (above is None or value > above)
          and (below is None or value < below) and (maximum is None or value <= maximum))
    if not ok:
        _fail(name, what, value)
    return value


def check_batch_size(name, value, num_train):
    """``value`` is None (gradient descent: all ``num_train`` samples) or an integer from 1 to ``num_train``."""
    if value is not None:
        try:
            check_int(name, value, 1, num_train)
        except MxdlError:
            _fail(name, f"an integer from 1 to the number of training samples ({num_train}), or None "
                  "for gradient descent", value)
    return value
