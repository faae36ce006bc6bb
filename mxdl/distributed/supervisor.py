"""The launcher's process supervisor: start each node in a process group of its own, watch them,
and stop them all (SIGTERM, then SIGKILL after ``STOP_GRACE``) as soon as one fails, on a timeout,
on Ctrl-C or on the launcher's own SIGTERM.

:func:`supervise` returns the job's exit code: the first non-zero exit code of a child, 124 on a
timeout (like ``timeout(1)``), 0 once every worker has succeeded (the servers then get
``SERVERS_EXIT_GRACE`` seconds to exit).  Only the standard library and :mod:`mxdl.errors` are
imported here.
"""
import contextlib
import os
import shlex
import signal
import subprocess
import threading
import time

from ..errors import MxdlError
from .hosts import count
from .watchdog import STOP_GRACE

SERVERS_EXIT_GRACE = 10.0      # seconds the servers get to exit after the last worker finished
TIMEOUT_EXIT_CODE = 124        # like timeout(1)


class Child:
    """A started node: its process (leader of its own process group) and its output thread."""

    def __init__(self, node, argv, env, output, preexec_fn=None):
        self.node = node
        try:
            self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=preexec_fn)
        except OSError as err:
            raise MxdlError(f"cannot start {node.name} ({shlex.join(argv)}): {err}") from None
        self.thread = threading.Thread(target=output.forward, args=(node, self.proc.stdout),
                                       name=f"mxdl.launch {node.name}", daemon=True)
        self.thread.start()

    def signal(self, signum):
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signum)


class Terminated(Exception):
    """The launcher itself got SIGTERM."""


@contextlib.contextmanager
def sigterm_raises():
    """Turn SIGTERM into an exception while we run, so that the children get stopped too."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_code(returncode):
    """A child's exit code as a shell reports it (killed by signal N -> 128 + N)."""
    return 128 - returncode if returncode < 0 else returncode


def stop(children):
    """SIGTERM every process group still running, then SIGKILL what is left after STOP_GRACE."""
    for child in children:
        child.signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    while any(c.proc.poll() is None for c in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    for child in children:
        child.signal(signal.SIGKILL)
        child.proc.wait()
    for child in children:
        child.thread.join(timeout=2.0)
        child.proc.stdout.close()


def supervise(children, output, timeout, startup_timeout, num_workers, num_servers, port):
    """Wait for the job; return its exit code once it is over or must be stopped (``port``: the
    scheduler's, named when it cannot listen there)."""
    start = time.monotonic()
    workers = [c for c in children if c.node.role == "worker"]
    announced = False
    workers_done_at = None
    while True:
        for child in children:
            code = child.proc.poll()
            if code:
                if child.node.role == "scheduler":
                    child.thread.join(timeout=2.0)      # (its last lines may still be in the pipe)
                if child.node.role == "scheduler" and output.bind_failed.is_set():
                    output.say(f"the scheduler could not listen on {child.node.address} port "
                               f"{port} (in use?): give another --port; stopping the others")
                else:
                    output.say(f"{child.node.name} exited with code {_exit_code(code)}; "
                               "stopping the others")
                return _exit_code(code)
        now = time.monotonic()
        if output.ready.is_set() and not announced:
            announced = True
            output.say(f"all {count(num_workers, 'worker')} and {count(num_servers, 'server')} "
                       f"connected after {now - start:.1f} s")
        if workers_done_at is None and all(c.proc.poll() is not None for c in workers):
            workers_done_at = now
            if not output.ready.is_set():
                output.say("the workers finished without connecting to the scheduler "
                           "(does COMMAND create mx.kv.create('dist_sync')?); stopping the servers")
                return 0
        if workers_done_at is not None:
            if all(c.proc.poll() is not None for c in children):
                return 0
            if now - workers_done_at > SERVERS_EXIT_GRACE:
                output.say(f"the servers did not exit {SERVERS_EXIT_GRACE:.0f} s after the workers "
                           "finished; stopping them")
                return 0
        elif not output.ready.is_set() and now - start > startup_timeout:
            output.say(f"start-up timed out: {count(num_workers, 'worker')} and "
                       f"{count(num_servers, 'server')} did not "
                       f"all reach the scheduler within {startup_timeout:g} s (does every worker create "
                       "mx.kv.create('dist_sync')? is the scheduler's address and port reachable?); "
                       "stopping all processes")
            return TIMEOUT_EXIT_CODE
        elif timeout is not None and now - start > timeout:
            output.say(f"timed out after {timeout:g} s; stopping all processes")
            return TIMEOUT_EXIT_CODE
        time.sleep(0.05)
