"""Safe file writing: atomic_write and its parts (refusals, modes, temporary files, SIGTERM)."""
import contextlib
import errno
import glob
import os
import signal
import socket
import stat
import sys
import tempfile
import threading
import time

from .errors import FileError

# A temporary file older than this whose writer cannot be shown alive is left over from a killed run.
STALE_TMP_SECONDS = 24 * 3600
_HOST = socket.gethostname().replace(".", "_")[:32] or "host"
_TMP_NAME_MAX = 100  # characters of the target's name kept in a temporary name (NAME_MAX is 255)

# errno values that mean "this path cannot be written here", as opposed to a network error raised
# inside a write block (a download writes while it reads a socket).
_PATH_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENAMETOOLONG,
                errno.ENOTDIR, errno.EISDIR, errno.ENOENT, errno.EEXIST, errno.ELOOP, errno.EFBIG,
                errno.EIO, errno.EXDEV, errno.EBUSY, errno.ETXTBSY}



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
