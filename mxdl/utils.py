"""Small helpers every part of mxdl uses: seeding, output folders, parameter files and counts.

Atomic file writing lives in :mod:`mxdl.files`.
"""
import contextlib
import errno
import os
import random
import tempfile

import numpy as np

from .errors import FileError, MxdlError, mxnet_reason
from .files import _HOST, file_error, replacing, writable_target
from .params_file import check_params_file


def seed_everything(seed):
    """Seed Python's, numpy's and MXNet's random generators, so that one seed gives one run."""
    import mxnet as mx  # here, not at the top: importing mxdl's light modules must not import MXNet

    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    mx.random.seed(seed)


def _probe(directory, shown, flag):
    """Prove that a file can be created in ``directory`` (then remove it); FileError if not."""
    try:
        fd, probe = tempfile.mkstemp(prefix=f".mxdl-probe.{_HOST}-{os.getpid()}.", suffix=".tmp",
                                     dir=directory)
        os.close(fd)
        os.remove(probe)
    except OSError as err:
        raise FileError(f"cannot write in {flag} {shown}: {err.strerror or err}") from None


def _make_dirs(path, flag, what):
    """Create folder ``path`` and its missing parents; return the folders created, outermost first."""
    missing, head = [], os.path.abspath(path)
    while head and not os.path.lexists(head):
        missing.append(head)
        head = os.path.dirname(head)
    try:
        os.makedirs(path, exist_ok=True)
    except FileExistsError:
        raise FileError(f"cannot use {flag} {path}: it is a file, not a folder; give a folder "
                        "(it is created if missing)") from None
    except OSError as err:
        raise FileError(f"cannot create {what} {path}: {err.strerror or err}") from None
    if not os.path.isdir(path):
        raise FileError(f"cannot use {flag} {path}: it is not a folder")
    return missing[::-1]


def _remove_dirs(created):
    for directory in reversed(created):
        try:
            os.rmdir(directory)
        except OSError:
            return


def prepare_output_dir(path, flag="--out"):
    """Create folder ``path`` (``--out``) if needed and prove a file can be written in it.

    A path naming a file, under /proc, too long, not permitted or on a read-only file system is one
    :class:`FileError` line naming the path and the reason.
    """
    return check_output_dir(path, flag, keep=True)


def check_output_dir(path, flag="--out", *, keep=False):
    """Prove, before any work, that folder ``path`` can be created and written: it is created, a
    file is written in it, and what was created is removed again (a failed run leaves nothing);
    ``keep``: the folders created stay unless the proof failed (:func:`prepare_output_dir`)."""
    path = os.fspath(path)
    created = _make_dirs(path, flag, f"{flag} folder")
    try:
        _probe(path, path, flag)
    except BaseException:  # (FileError, or an interrupt)
        _remove_dirs(created)
        raise
    if not keep:
        _remove_dirs(created)
    return path


def check_output_file(path, flag="--save"):
    """Prove, before any work, that file ``path`` (``--save``) can be written: its folder is created
    if needed, a file is written beside it, and what was created is removed again.  The file itself
    is not touched; a directory, device or FIFO there is refused."""
    path = os.fspath(path)
    target, _ = writable_target(path)
    directory = os.path.dirname(target)
    created = _make_dirs(directory, flag, f"the folder of {flag}")
    try:
        _probe(directory, path, flag)
    finally:
        _remove_dirs(created)
    return path


def _disk_full(directory):
    with contextlib.suppress(OSError):
        info = os.statvfs(directory)
        return info.f_bavail == 0
    return False


def save_params(net, path):
    """Save ``net``'s parameters to ``path`` atomically (temporary file, then rename)."""
    import mxnet as mx

    path = os.fspath(path)
    # Gluon writes by file name, so let it write a temporary name and rename that into place.
    with replacing(path) as tmp:
        try:
            net.save_parameters(tmp)
        except mx.base.MXNetError as err:
            if _disk_full(os.path.dirname(tmp)):
                raise file_error(path, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))) from None
            raise FileError(f"cannot write {path}: {mxnet_reason(err)}") from None


def load_params(net, path, ctx=None):
    """Load parameters saved by :func:`save_params` into ``net``, with a clear error when they do not fit.

    The file's headers are checked against its size before MXNet allocates anything, and every
    loaded value must be finite: NaN or inf weights make a bad file, whatever trained them.
    """
    import mxnet as mx

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise MxdlError(f"params file {path} does not exist: give the path written by --save")
    check_params_file(path)
    try:
        net.load_parameters(path, ctx=ctx)
    except (mx.base.MXNetError, AssertionError, ValueError, KeyError) as err:
        raise MxdlError(f"params file {path} does not fit this model ({mxnet_reason(err)}): "
                        "check --model matches the model that was saved, or that the file is not "
                        "corrupt") from None
    check_finite(net, f"params file {path}")


def check_finite(net, what):
    """Raise :class:`MxdlError` if a parameter of ``net`` holds NaN or inf (``what``: where it came from)."""
    for name, param in net.collect_params().items():
        values = param.list_data()[0].asnumpy()
        bad = values.size - int(np.isfinite(values).sum())
        if bad:
            raise MxdlError(f"{what} is bad: parameter {name} holds {bad} NaN or infinite value(s) of "
                            f"{values.size}; it was saved from a run that diverged, or is corrupt; "
                            "train again (with a lower --lr) or give another file")


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
