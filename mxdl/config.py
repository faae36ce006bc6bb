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
from .files import atomic_write
from .models import check_init, list_models

DEFAULT_DEVICE = "cpu"  # the one default device: every --ctx flag and config starts from it

KVSTORES = ("device", "local", "dist_sync", "dist_async")
DISTS = ("horovod",)  # the other distributed engine (None: the kvstore's)
# MXNet's optimizer registry (mx.optimizer.Optimizer.opt_registry, less its 'test'), spelled out so
# that flags can be checked before MXNet is imported; tests/test_optim.py keeps the two equal.
OPTIMIZERS = ("adadelta", "adagrad", "adam", "adamax", "ccsgd", "dcasgd", "ftml", "ftrl", "groupadagrad",
              "lamb", "lars", "lbsgd", "nadam", "nag", "rmsprop", "sgd", "sgld", "signum")
LR_SCHEDULES = ("factor", "multifactor", "cosine", "poly")  # mx.lr_scheduler's, see mxdl.optim


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
    optimizer: str = "sgd"  # any name in MXNet's optimizer registry (sgd: the talk's, the fast update)
    beta1: Optional[float] = None  # Adam-style optimisers' moment decays (None: MXNet's default)
    beta2: Optional[float] = None
    epsilon: Optional[float] = None
    gamma1: Optional[float] = None  # RMSProp's decay (None: MXNet's default)
    clip_gradient: Optional[float] = None  # clip each gradient element to [-c, c] (None: no clipping)
    lr_schedule: Optional[str] = None  # factor, multifactor, cosine or poly (None: a constant lr)
    lr_factor: float = 0.1  # factor/multifactor: lr x this at each step
    lr_steps: Optional[list] = None  # factor: [every N epochs]; multifactor: the epochs to step at
    warmup_epochs: float = 0.0  # linear warm-up from warmup_begin_lr to lr over this many epochs
    warmup_begin_lr: float = 0.0
    final_lr: float = 0.0  # cosine/poly: the lr at the end of the run
    lr_power: float = 2.0  # poly: the exponent
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
    resume: Optional[str] = None  # a run directory or checkpoint file to continue from
    checkpoint_every: int = 1  # with out: write out/checkpoint.ckpt every this many epochs (and the last)
    export: Optional[str] = None  # PREFIX: write PREFIX-symbol.json + PREFIX-0000.params after training
    tensorboard: Optional[str] = None  # a directory for TensorBoard event files
    log_interval: Optional[int] = None  # a line every this many batches (when there is no progress bar)
    dry_run: bool = False  # one batch of training and of evaluation, nothing written

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
        check_seed("seed", self.seed)
        if self.limit is not None:
            check_int("limit", self.limit, 1)
        check_float32("lr", self.lr, above=0)
        check_float32("momentum", self.momentum, minimum=0, below=1)
        check_float32("wd", self.wd, minimum=0)
        if self.init is not None:
            check_init(self.init)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        for name in ("beta1", "beta2", "gamma1"):
            if getattr(self, name) is not None:
                check_number(name, getattr(self, name), minimum=0, below=1)
        for name in ("epsilon", "clip_gradient"):
            if getattr(self, name) is not None:
                check_number(name, getattr(self, name), above=0)
        if self.lr_schedule is not None:
            check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        check_number("lr_factor", self.lr_factor, above=0, maximum=1)
        for step in self.lr_steps or ():
            check_int("lr_steps", step, 1)
        check_number("warmup_epochs", self.warmup_epochs, minimum=0)
        check_number("warmup_begin_lr", self.warmup_begin_lr, minimum=0)
        check_number("final_lr", self.final_lr, minimum=0)
        check_number("lr_power", self.lr_power, above=0)
        check_int("checkpoint_every", self.checkpoint_every, 1)
        if self.log_interval is not None:
            check_int("log_interval", self.log_interval, 1)
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


# numpy's RandomState (which seed_everything seeds) takes seeds from 0 to 2**32 - 1.
MAX_SEED = 2**32 - 1
# MXNet computes in float32: a hyperparameter must survive the conversion (1e39 becomes inf, 1e-320
# becomes 0, and MXNet's operators refuse both with a traceback).  Non-zero values must be normal
# float32 numbers.
FLOAT32_TINY = float(np.finfo(np.float32).tiny)  # 1.1754944e-38
FLOAT32_MAX = float(np.finfo(np.float32).max)  # 3.4028235e+38


def check_seed(name, value):
    """``value`` is a seed numpy and MXNet accept: an integer from 0 to 2**32 - 1."""
    return check_int(name, value, 0, MAX_SEED)


def check_float32(name, value, **bounds):
    """:func:`check_number` with ``bounds``, and a value float32 holds: 0, or a size from
    1.2e-38 to 3.4e+38 (learning rates, weight decay, momentum, initial scales)."""
    check_number(name, value, **bounds)
    if value != 0 and not FLOAT32_TINY <= abs(value) <= FLOAT32_MAX:
        zero = " (or 0)" if bounds.get("minimum") == 0 or not bounds else ""
        _fail(name, f"a number whose size float32 holds, from {FLOAT32_TINY:.2g} to "
              f"{FLOAT32_MAX:.2g}{zero}: MXNet computes in float32", value)
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
