"""The children die with the launcher, even when it is killed with SIGKILL.

On Linux each child gets a parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGTERM)``,
:func:`parent_death_signal`), and on every POSIX system a small watchdog process (:class:`Watchdog`)
holds a pipe from the launcher; when the pipe closes without a goodbye, it sends SIGTERM, then
SIGKILL, to every child's process group (which also reaches the children's own children).  An ssh
child takes its remote command with it: ``ssh -tt`` gives that command a terminal, and when the
connection closes the remote side gets SIGHUP.  Only the standard library and :mod:`mxdl.errors`
are imported here.
"""
import contextlib
import ctypes
import os
import signal
import subprocess
import sys

from ..errors import MxdlError

STOP_GRACE = 5.0               # seconds between SIGTERM and SIGKILL
TERMINATED_EXIT_CODE = 128 + signal.SIGTERM

_PR_SET_PDEATHSIG = 1     # <linux/prctl.h>


def parent_death_signal():
    """A ``preexec_fn`` that makes the child get SIGTERM when the launcher dies (Linux), or None.

    Everything it needs is looked up here, before the fork: in the child it only calls ``prctl`` and
    ``getppid`` (the launcher may have died between the fork and the ``prctl``: then it exits).
    The signal is sent when the *thread* that started the child ends; children are started from the
    thread that runs :func:`mxdl.distributed.launch.launch`, which outlives them.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    launcher = os.getpid()
    signum = int(signal.SIGTERM)

    def preexec():
        prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)
        if os.getppid() != launcher:
            os._exit(TERMINATED_EXIT_CODE)

    return preexec


# The watchdog: reads process-group ids from the launcher, one a line.  "exit" means the launcher has
# stopped its children itself; end of file without it means the launcher died: stop the groups.
_WATCHDOG = """\
import os, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C at a terminal is for the launcher to handle
groups = []
for line in sys.stdin:
    if line.strip() == "exit":
        sys.exit(0)
    groups.append(int(line))
grace = float(sys.argv[1])

def signal_all(signum):
    alive = []
    for group in groups:
        try:
            os.killpg(group, signum)
            alive.append(group)
        except (ProcessLookupError, PermissionError):
            pass
    return alive

if signal_all(signal.SIGTERM):
    try:
        print("mxdl.launch: the launcher died; its watchdog stopped every process", file=sys.stderr,
              flush=True)
    except OSError:
        pass
    deadline = time.monotonic() + grace
    while signal_all(0) and time.monotonic() < deadline:
        time.sleep(0.05)
    signal_all(signal.SIGKILL)
"""


class Watchdog:
    """A process that stops the children's process groups if the launcher dies without doing it."""

    def __init__(self):
        read_end, self.pipe = os.pipe()     # (not inherited by the children: PEP 446)
        try:
            self.proc = subprocess.Popen([sys.executable, "-S", "-c", _WATCHDOG, str(STOP_GRACE)],
                                         stdin=read_end, stdout=subprocess.DEVNULL,
                                         start_new_session=True)
        except OSError as err:
            os.close(self.pipe)
            raise MxdlError(f"cannot start the launcher's watchdog ({err})") from None
        finally:
            os.close(read_end)

    def watch(self, pid):
        with contextlib.suppress(OSError):
            os.write(self.pipe, f"{pid}\n".encode())

    def close(self):
        """The children are stopped: let the watchdog go."""
        with contextlib.suppress(OSError):
            os.write(self.pipe, b"exit\n")
        os.close(self.pipe)
        self.proc.wait()
