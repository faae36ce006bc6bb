"""Small helpers every part of mxdl uses: seeding, atomic files, parameter files and counts."""
import contextlib
import errno
import glob
import os
import random
import signal
import socket
import stat
import sys
import tempfile
import threading
import time

import numpy as np

from .errors import FileError, MxdlError
from .params_file import check_params_file

# A temporary file older than this whose writer cannot be shown alive is left over from a killed run.
STALE_TMP_SECONDS = 24 * 3600
_HOST = socket.gethostname().replace(".", "_")[:32] or "host"
_TMP_NAME_MAX = 100  # characters of the target's name kept in a temporary name (NAME_MAX is 255)

# errno values that mean "this path cannot be written here", as opposed to a network error raised
# inside a write block (a download writes while it reads a socket).
_PATH_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENAMETOOLONG,
                errno.ENOTDIR, errno.EISDIR, errno.ENOENT, errno.EEXIST, errno.ELOOP, errno.EFBIG,
                errno.EIO, errno.EXDEV, errno.EBUSY, errno.ETXTBSY}


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


def _kind(mode):
    """What a file that is not a regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def file_error(path, err, verb="write"):
    """A :class:`FileError` for OSError ``err`` met while writing (or reading) ``path``: one line."""
    reason = err.strerror or str(err)
    message = f"cannot {verb} {path}: {reason}"
    if verb == "write" and err.errno in (errno.ENOSPC, errno.EDQUOT):
        message += ("; free some space or write elsewhere (any earlier file at that path is left "
                    "as it was)")
    elif err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        message += "; choose a place you may write to" if verb == "write" else ""
    return FileError(message)


def writable_target(path):
    """``(target, mode)``: the file a write of ``path`` replaces, and its permissions (None if new).

    A symlink is followed to its target, so the link stays a link.  A directory, device, FIFO or
    socket is refused with a :class:`FileError`: an atomic write would replace it with a regular file.
    """
    path = os.fspath(path)
    target = os.path.realpath(path)
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return target, None
    except OSError as err:
        raise file_error(path, err) from None
    if not stat.S_ISREG(info.st_mode):
        shown = path if target == os.path.abspath(path) else f"{path} (-> {target})"
        raise FileError(f"cannot write {shown}: it is {_kind(info.st_mode)}, not a regular file; "
                        "give the path of a file to create or replace")
    return target, stat.S_IMODE(info.st_mode)


def _tmp_prefix(name):
    return f".{name[:_TMP_NAME_MAX]}."


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_tmp(directory, name):
    """Remove ``.<name>.<host>-<pid>.*.tmp`` files that a killed writer left in ``directory``.

    One is stale when its writer (a process of this host) is no longer running, or when it has not
    been written to for :data:`STALE_TMP_SECONDS` (a writer on another host sharing the folder).
    """
    prefix = _tmp_prefix(name)
    for tmp in glob.glob(os.path.join(glob.escape(directory), glob.escape(prefix) + "*.tmp")):
        owner = os.path.basename(tmp)[len(prefix):].split(".", 1)[0]
        host, _, pid = owner.rpartition("-")
        try:
            stale = (host == _HOST and pid.isdigit() and not _alive(int(pid))) or \
                time.time() - os.lstat(tmp).st_mtime > STALE_TMP_SECONDS
            if stale:
                os.remove(tmp)
        except OSError:
            continue  # gone already, or not ours to remove: leave it


class Terminated(SystemExit):
    """SIGTERM arrived while a file was being written (exit code 143, like the default action)."""


@contextlib.contextmanager
def _sigterm_raises():
    """While a file is written, turn SIGTERM into :class:`Terminated` so the temporary file is removed.

    Only the main thread can install handlers, and only the default action is replaced: a program
    that handles SIGTERM itself keeps its handler.
    """
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def handler(signum, frame):
        raise Terminated(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def replacing(path):
    """Yield a temporary file name beside ``path``'s target; on success rename it over the target.

    The shared core of :func:`atomic_write` and :func:`save_params`: symlinks are written through,
    special files refused, an existing file's permissions kept, stale temporary files of killed
    runs removed, SIGTERM cleans up, and every OSError about the path becomes one :class:`FileError`.
    """
    path = os.fspath(path)
    target, mode = writable_target(path)
    directory, name = os.path.split(target)
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as err:
        raise file_error(path, err) from None
    remove_stale_tmp(directory, name)
    with _sigterm_raises():
        try:
            fd, tmp = tempfile.mkstemp(prefix=f"{_tmp_prefix(name)}{_HOST}-{os.getpid()}.",
                                       suffix=".tmp", dir=directory)
            os.close(fd)
        except OSError as err:
            raise file_error(path, err) from None
        try:
            yield tmp
            os.chmod(tmp, _default_mode() if mode is None else mode)
            os.replace(tmp, target)
        except BaseException as err:
            with contextlib.suppress(OSError):
                os.remove(tmp)
            if isinstance(err, Terminated):
                print(f"terminated while writing {path}: it was left as it was", file=sys.stderr)
            if isinstance(err, OSError) and err.errno in _PATH_ERRNOS:
                raise file_error(path, err) from None
            raise


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """Open a temporary file beside ``path``; on success fsync it and rename it over ``path``.

    An interrupted write (an exception, Ctrl-C, SIGTERM, a full disk) leaves the previous file
    untouched: readers see the old file or the new one, never half of one.  A symlink is written
    through to its target; a directory, device or FIFO is refused; an existing file keeps its
    permissions.  Failures to write are a :class:`~mxdl.errors.FileError` naming ``path``.
    """
    with replacing(path) as tmp:
        with open(tmp, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())


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
    path = os.fspath(path)
    created = _make_dirs(path, flag, f"{flag} folder")
    try:
        _probe(path, path, flag)
    except FileError:
        _remove_dirs(created)
        raise
    return path


def check_output_dir(path, flag="--out"):
    """Prove, before any work, that folder ``path`` can be created and written: it is created, a
    file is written in it, and what was created is removed again (a failed run leaves nothing)."""
    path = os.fspath(path)
    created = _make_dirs(path, flag, f"{flag} folder")
    try:
        _probe(path, path, flag)
    finally:
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


def _mxnet_reason(err):
    """The last line of an MXNetError (its message starts with a C++ "Traceback" header)."""
    text = str(err).strip()
    return text.splitlines()[-1].replace("MXNetError: ", "")[:300] if text else type(err).__name__


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
            raise FileError(f"cannot write {path}: {_mxnet_reason(err)}") from None


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
        raise MxdlError(f"params file {path} does not fit this model ({_mxnet_reason(err)}): "
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
