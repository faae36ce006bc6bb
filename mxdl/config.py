"""One typed configuration for an MNIST run, whose defaults are the meetup demo's hyperparameters.

The demo trained a ``Dense(10)`` with ``gluon.Trainer(..., 'sgd', {'learning_rate': 0.1})`` on
mini-batches of 64 for 4 epochs: those are the defaults below.  The one setting we change by default
is the initialiser (the demo's ``Normal(sigma=1)`` costs accuracy, see :mod:`mxdl.models`); the
``meetup`` preset puts it back, so ``Config.from_preset('meetup')`` is the demo exactly.

Every field is one flag of ``scripts/mnist.py`` (``num_epochs`` is ``--epochs``).
"""
import dataclasses
import json
import math
from typing import Optional

from .data import DATASETS
from .errors import MxdlError
from .models import list_models, parse_init
from .utils import atomic_write

KVSTORES = ("device", "local", "dist_sync", "dist_async")


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
    ctx: str = "cpu"  # cpu, gpu, gpu:N, auto, or a comma list
    kvstore: str = "device"  # how gradients are shared: device, local, dist_sync, dist_async
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
        _choice("model", self.model, tuple(list_models()))
        _choice("dataset", self.dataset, DATASETS)
        _choice("kvstore", self.kvstore, KVSTORES)
        _integer("batch_size", self.batch_size, 1)
        _integer("num_epochs", self.num_epochs, 1)
        _integer("seed", self.seed, 0)
        if self.limit is not None:
            _integer("limit", self.limit, 1)
        _number("lr", self.lr, lambda v: v > 0, "a number > 0")
        _number("momentum", self.momentum, lambda v: 0 <= v < 1, "a number in [0, 1)")
        _number("wd", self.wd, lambda v: v >= 0, "a number >= 0")
        if self.init is not None:
            parse_init(self.init)
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
        _choice("preset", name, tuple(PRESETS))
        return cls(**{**PRESETS[name], **overrides})


# The meetup demo, every setting as it was on the night: Dense(10) initialised from Normal(sigma=1),
# plain SGD with lr 0.1, mini-batches of 64, 4 epochs, MNIST.
PRESETS = {
    "meetup": dict(model="logreg", dataset="mnist", init="normal:1", lr=0.1, batch_size=64,
                   num_epochs=4, momentum=0.0, wd=0.0),
}


def _choice(name, value, choices):
    if value not in choices:
        raise MxdlError(f"unknown {name} {value!r}: choose one of {', '.join(choices)}")


def _integer(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise MxdlError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _number(name, value, ok, what):
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            or not ok(value)):
        raise MxdlError(f"{name} must be {what}, got {value!r}")
