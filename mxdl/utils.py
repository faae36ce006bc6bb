"""Small helpers every part of mxdl uses: seeding, atomic files, parameter files and counts."""
import contextlib
import os
import random
import tempfile

import numpy as np

from .errors import MxdlError


def seed_everything(seed):
    """Seed Python's, numpy's and MXNet's random generators, so that one seed gives one run."""
    import mxnet as mx  # here, not at the top: importing mxdl's light modules must not import MXNet

    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    mx.random.seed(seed)


def _default_mode():
    """The permissions a plain ``open(path, 'w')`` would give: 0o666 less the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """Open a temporary file beside ``path``; on success fsync it and rename it over ``path``.

    An interrupted write leaves the previous file untouched: readers see the old file or the new
    one, never half of one.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _default_mode())  # mkstemp makes 0600 files; outputs are ordinary files
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def save_params(net, path):
    """Save ``net``'s parameters to ``path`` atomically (temporary file, then rename)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    # Gluon writes by file name, so let it write a temporary name and rename that into place.
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        net.save_parameters(tmp)
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def load_params(net, path, ctx=None):
    """Load parameters saved by :func:`save_params` into ``net``, with a clear error when they do not fit."""
    import mxnet as mx

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise MxdlError(f"params file {path} does not exist: give the path written by --save")
    try:
        net.load_parameters(path, ctx=ctx)
    except (mx.base.MXNetError, AssertionError, ValueError, KeyError) as err:
        # MXNet's message starts with a C++ "Traceback" header; its last line says what was wrong.
        text = str(err).strip()
        first = text.splitlines()[-1].replace("MXNetError: ", "") if text else type(err).__name__
        raise MxdlError(f"params file {path} does not fit this model ({first[:300]}): "
                        "check --model matches the model that was saved, or that the file is not "
                        "corrupt") from None


def num_params(net):
    """The number of learnable scalars in ``net``.

    Shapes must be known: give layers their input size, or run one forward pass first.
    """
    total = 0
    for name, param in net.collect_params().items():
        if param.grad_req == "null":
            continue
        if param.shape is None or 0 in param.shape:
            raise MxdlError(f"parameter {name} has no shape yet: run one forward pass before counting")
        total += int(np.prod(param.shape))
    return total
