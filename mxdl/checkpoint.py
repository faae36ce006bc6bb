"""Checkpoints: everything needed to continue a run where it stopped, in one file written atomically.

Continuing training is more than reloading the weights: the optimiser has state too (momentum,
Adam's moments, the update count a learning-rate schedule reads), the epoch counter and the history
go on, and the shuffling goes on from where it was.  A checkpoint holds

* the weights, as ``net.save_parameters`` writes them;
* the Trainer's state, as ``Trainer.save_states`` writes it (the optimizer with its update count
  and schedule, and its per-parameter states);
* the epoch it was taken after, the history so far and the run's config;
* the random generators' states where they can be read: Python's, numpy's and the shuffling
  generator's.  MXNet 1.x cannot report its own generator's state, only be seeded; resuming reseeds
  it with ``seed + epoch`` (nothing in mxdl's models draws from it while training: no dropout);
* the data's shape (one input's shape and the number of classes), to refuse a mismatched resume.

Reading one needs no MXNet (a command line reads the config it resumes before MXNet is imported).
It is one zip file (``checkpoint.json``, ``net.params``, ``trainer.states``), written to a temporary
name and renamed into place, so an interrupted save leaves the previous checkpoint intact::

    save_checkpoint(path, net, trainer, epoch=4, history=history, config=config.to_dict(),
                    data={"input_shape": [1, 28, 28], "num_classes": 10})
    checkpoint = load_checkpoint(path)            # or the run directory that holds checkpoint.ckpt
    check_compatible(checkpoint, config.to_dict(), data)
    checkpoint.restore(net, trainer)
"""
import dataclasses
import json
import os
import random
import tempfile
import zipfile

import numpy as np

from .errors import MxdlError, mxnet_reason
from .files import atomic_write

CHECKPOINT_NAME = "checkpoint.ckpt"  # its name in a run's --out directory
FORMAT = 1  # bumped when the layout of the file changes
_META, _PARAMS, _STATES = "checkpoint.json", "net.params", "trainer.states"
# Config fields that must agree to continue a run: the net's shape and the optimiser's state kind.
COMPATIBLE_FIELDS = ("model", "optimizer")


class CheckpointError(MxdlError):
    """A checkpoint is missing, unreadable, or does not belong to this run's model and data."""


@dataclasses.dataclass
class Checkpoint:
    """A loaded checkpoint: its metadata, and the weights and trainer state to :meth:`restore`."""

    path: str
    epoch: int  # epochs trained so far; training goes on with epoch + 1
    history: list  # one dict per epoch trained so far
    config: dict  # the config of the run that wrote it
    rng: dict  # generator states (see capture_rng)
    data: dict  # {"input_shape": [...], "num_classes": n} of the data it was trained on
    params: bytes = dataclasses.field(repr=False, default=b"")
    states: bytes = dataclasses.field(repr=False, default=None)

    def restore(self, net, trainer=None, ctx=None):
        """Load the weights into ``net`` and (if given) the optimiser state into ``trainer``."""
        import mxnet as mx
        with tempfile.TemporaryDirectory(prefix="mxdl-checkpoint.") as tmp:
            params = os.path.join(tmp, _PARAMS)
            with open(params, "wb") as f:
                f.write(self.params)
            try:
                net.load_parameters(params, ctx=ctx)
            except (mx.base.MXNetError, AssertionError, ValueError, KeyError) as err:
                raise CheckpointError(f"the weights in checkpoint {self.path} do not fit this model "
                                      f"({mxnet_reason(err)})") from None
            if trainer is not None and self.states is not None:
                states = os.path.join(tmp, _STATES)
                with open(states, "wb") as f:
                    f.write(self.states)
                try:
                    trainer.load_states(states)
                except Exception as err:  # an unpickling failure can be any exception type
                    raise CheckpointError(f"the optimiser state in checkpoint {self.path} does not fit "
                                          f"this trainer ({mxnet_reason(err)})") from None


def _jsonable(value):
    """numpy arrays/scalars and tuples -> plain lists and numbers, for json."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    return value


def capture_rng(shuffle_rng=None, seed=None):
    """The states of Python's and numpy's generators (and ``shuffle_rng``, a RandomState), as JSON data."""
    state = {"python": _jsonable(random.getstate()), "numpy": _jsonable(np.random.get_state()),
             "mxnet_seed": seed}
    if shuffle_rng is not None:
        state["shuffle"] = _jsonable(shuffle_rng.get_state())
    return state


def _numpy_state(state):
    name, keys, pos, has_gauss, cached = state
    return name, np.asarray(keys, dtype=np.uint32), int(pos), int(has_gauss), float(cached)


def restore_rng(state, epoch, shuffle_rng=None):
    """Put the generators back as :func:`capture_rng` found them; reseed MXNet's with seed + epoch."""
    import mxnet as mx
    if state.get("python") is not None:
        version, internal, gauss = state["python"]
        random.setstate((version, tuple(internal), gauss))
    if state.get("numpy") is not None:
        np.random.set_state(_numpy_state(state["numpy"]))
    if shuffle_rng is not None and state.get("shuffle") is not None:
        shuffle_rng.set_state(_numpy_state(state["shuffle"]))
    if state.get("mxnet_seed") is not None:
        mx.random.seed(int(state["mxnet_seed"]) + int(epoch))


def save_checkpoint(path, net, trainer, *, epoch, history, config, data, rng=None):
    """Write a checkpoint of ``net`` and ``trainer`` after ``epoch`` epochs to ``path``, atomically.

    ``history`` is a list of per-epoch stats (dataclasses or dicts), ``config`` a dict, ``data``
    ``{"input_shape": [...], "num_classes": n}``, ``rng`` from :func:`capture_rng` (default: the
    global generators' states now).  Returns ``path``.
    """
    path = os.fspath(path)
    meta = {"format": FORMAT, "epoch": int(epoch), "history": _jsonable(list(history)),
            "config": _jsonable(dict(config)), "rng": rng if rng is not None else capture_rng(),
            "data": _jsonable(dict(data))}
    with tempfile.TemporaryDirectory(prefix="mxdl-checkpoint.") as tmp:
        params, states = os.path.join(tmp, _PARAMS), os.path.join(tmp, _STATES)
        net.save_parameters(params)
        if trainer is not None:
            trainer.save_states(states)
        with atomic_write(path, "wb") as f:
            with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(_META, json.dumps(meta, indent=1) + "\n")
                archive.write(params, _PARAMS)
                if trainer is not None:
                    archive.write(states, _STATES)
    return path


def find_checkpoint(path):
    """The checkpoint file ``path`` names: itself, or ``checkpoint.ckpt`` in the run directory ``path``."""
    path = os.fspath(path)
    if os.path.isdir(path):
        candidate = os.path.join(path, CHECKPOINT_NAME)
        if not os.path.isfile(candidate):
            raise CheckpointError(f"no checkpoint in run directory {path} (no {CHECKPOINT_NAME}): "
                                  "runs write one with --out DIR (every --checkpoint-every N epochs)")
        return candidate
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path} does not exist: give a run directory (--out of the "
                              f"run) or its {CHECKPOINT_NAME}")
    return path


def load_checkpoint(path):
    """Read the checkpoint at ``path`` (a file, or a run directory holding ``checkpoint.ckpt``)."""
    path = find_checkpoint(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if _META not in names or _PARAMS not in names:
                raise CheckpointError(f"{path} is not an mxdl checkpoint (it lacks {_META} or {_PARAMS})")
            meta = json.loads(archive.read(_META))
            params = archive.read(_PARAMS)
            states = archive.read(_STATES) if _STATES in names else None
    except (zipfile.BadZipFile, ValueError, OSError) as err:
        raise CheckpointError(f"cannot read checkpoint {path}: {err} (is it truncated or not a "
                              "checkpoint?)") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path} has format {meta.get('format')!r}; this mxdl reads "
                              f"format {FORMAT}")
    return Checkpoint(path, int(meta["epoch"]), list(meta["history"]), dict(meta["config"]),
                      dict(meta.get("rng") or {}), dict(meta.get("data") or {}), params, states)


def check_compatible(checkpoint, config, data=None, fields=COMPATIBLE_FIELDS):
    """Raise one clear :class:`CheckpointError` if ``checkpoint`` cannot continue a run of ``config``.

    The ``fields`` of both configs must agree (a field missing from either is not compared), and so
    must the data's input shape and number of classes when ``data`` is given.
    """
    differences = [f"{name} {checkpoint.config[name]!r} (this run: {config[name]!r})" for name in fields
                   if name in checkpoint.config and name in config
                   and checkpoint.config[name] != config[name]]
    for name in ("input_shape", "num_classes"):
        if data is not None and name in data and name in checkpoint.data:
            saved, now = _jsonable(checkpoint.data[name]), _jsonable(data[name])
            if saved != now:
                differences.append(f"{name.replace('_', ' ')} {saved} (this run: {now})")
    if differences:
        raise CheckpointError(f"cannot resume from {checkpoint.path}: it was trained with "
                              f"{'; '.join(differences)}. Resume with the same settings, or start a "
                              "new run without --resume")
