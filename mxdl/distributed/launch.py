"""Start a data-parallel job on MXNet's own parameter server: one scheduler, N servers, M workers.

This is mini-batch SGD scaled out: each worker computes the gradient of the cost on its own shard of
the mini-batch, the servers sum those gradients (``mx.kv.create('dist_sync')``), and every worker
pulls the same new weights -- one step of ``w <- w - lr * grad`` with a batch ``M`` times larger.

MXNet 1.9.1's own ``tools/launch.py`` goes through dmlc-core's ``dmlc_tracker``, which calls
``Thread.isAlive`` (gone since Python 3.9) and so crashes; this module replaces it for the local and
ssh cases::

    python -m mxdl.distributed.launch --workers 2 --servers 1 -- python scripts/mnist.py --kvstore dist_sync
    python -m mxdl.distributed.launch --workers 4 --servers 2 --hosts hosts.txt -- python scripts/mnist.py ...

Every process gets the ps-lite environment: ``DMLC_ROLE`` (``scheduler``/``server``/``worker``),
``DMLC_PS_ROOT_URI`` and ``DMLC_PS_ROOT_PORT`` (where the scheduler listens), ``DMLC_NUM_SERVER``,
``DMLC_NUM_WORKER`` and ``DMLC_NODE_HOST`` (the address this process binds to; without it ps-lite
guesses a network interface, and fails on a loopback-only host).  ps-lite reads no worker id: the
scheduler assigns ranks itself (``kv.rank``), so ``[worker i]`` is the launch order, not the rank.

Workers run COMMAND.  The scheduler and the servers run ``python -c "import mxnet"``: with
``DMLC_ROLE`` set to ``server`` or ``scheduler``, importing MXNet runs the server loop and then exits
(``mxnet/kvstore/kvstore_server.py: _init_kvstore_server_module``).  That is more robust than running
COMMAND there too (as MXNet's launcher does): it works whatever COMMAND does before importing MXNet
(parsing flags, reading data, writing files) and even when COMMAND is not a Python program.

Without ``--hosts`` everything runs on this machine, bound to 127.0.0.1.  With ``--hosts FILE``
(one ``[user@]address[:ssh_port]`` a line; ``#`` comments) the scheduler runs on the first host,
server ``j`` on host ``j mod H`` and worker ``i`` on host ``i mod H``, each through ``ssh`` that
exports the environment and changes to this directory: the code, the data and this Python must be at
the same paths on every host.

The launcher forwards every output line with a ``[worker 0] ``/``[server 0] ``/``[scheduler] ``
prefix (a carriage return ends a line too, so a progress bar cannot overwrite the prefix), stops
everything (process groups: SIGTERM, then SIGKILL) as soon as one process fails, on Ctrl-C or on a
timeout, and returns the first non-zero exit code (0 when every worker succeeded).

The children die with the launcher, even when it is killed with SIGKILL: on Linux each child gets a
parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGTERM)``), and on every POSIX system a small
watchdog process holds a pipe from the launcher; when the pipe closes without a goodbye, it sends
SIGTERM, then SIGKILL, to every child's process group (which also reaches the children's own
children).  An ssh child takes its remote command with it: ``ssh -tt`` gives that command a terminal,
and when the connection closes the remote side gets SIGHUP.

The remote command is built with every piece shell-quoted, ``--env`` names must be shell names, a
host line may not begin with ``-`` and ssh's options end with ``--``.  At most
``MAX_PROCESSES_PER_HOST`` workers and servers may run on one host.

A worker program should wrap its training in :func:`fail_fast`: a dist worker that fails alone
otherwise hangs in its kvstore's destructor, and the launcher never learns that it failed.
"""
import argparse
import contextlib
import ctypes
import errno
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, replace
from typing import Optional

from .. import cli
from ..errors import MxdlError

LOCALHOST = "127.0.0.1"
CLUSTER_PORT = 9091            # scheduler port with --hosts (a free port cannot be probed remotely)
STARTUP_TIMEOUT = 60.0         # seconds for every node to reach the scheduler
STOP_GRACE = 5.0               # seconds between SIGTERM and SIGKILL
SERVERS_EXIT_GRACE = 10.0      # seconds the servers get to exit after the last worker finished
TIMEOUT_EXIT_CODE = 124        # like timeout(1)
TERMINATED_EXIT_CODE = 128 + signal.SIGTERM
SSH = ["ssh", "-tt", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]
# -tt gives the remote command a terminal, so that it gets SIGHUP when we close the connection.
MAX_PROCESSES_PER_HOST = 64    # workers + servers on any one host (each is a whole MXNet process)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")     # a POSIX shell variable name
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")

# ps-lite prints this at verbosity 1 once every server and worker has registered with the scheduler.
_READY = re.compile(r"the scheduler is connected to \d+ workers and \d+ servers")
# The rest of what PS_VERBOSE=1 makes the scheduler print: hidden unless the user asked for it.
_CHATTER = re.compile(r"ps-lite/src/\S+:\d+: (Bind to |assign rank=|Barrier count for |H\[\d+\] is stopp)")


@dataclass(frozen=True)
class Node:
    """One process of the job: its role, its index within the role, and where it runs."""
    role: str                           # 'scheduler', 'server' or 'worker'
    index: int
    address: str = LOCALHOST            # what ps-lite binds to (DMLC_NODE_HOST)
    ssh: Optional[str] = None           # ssh destination, None to run on this machine
    ssh_port: Optional[str] = None

    @property
    def name(self):
        return self.role if self.role == "scheduler" else f"{self.role} {self.index}"


def parse_host(line):
    """``'[user@]address[:ssh_port]'`` -> a worker :class:`Node` template on that host."""
    dest, _, ssh_port = line.partition(":")
    address = dest.rpartition("@")[2]
    if line.startswith("-") or address.startswith("-"):
        raise MxdlError(f"bad host {line!r}: a host may not begin with '-' (ssh would read it as an option)")
    if (not address or (ssh_port and not (ssh_port.isdigit() and 1 <= int(ssh_port) <= 65535))
            or any(c.isspace() or not c.isprintable() for c in line)):
        raise MxdlError(f"bad host {line!r}: write one [user@]address[:ssh_port] per line")
    return Node("worker", 0, address=address, ssh=dest, ssh_port=ssh_port or None)


def read_hosts(path):
    """Read a hosts file: one ``[user@]address[:ssh_port]`` a line; blank lines and ``#`` comments skipped."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line.split("#", 1)[0].strip() for line in f]
    except (OSError, UnicodeDecodeError) as err:
        raise MxdlError(f"cannot read hosts file {os.fspath(path)!r} ({err}): "
                        "give a text file with one host a line") from None
    hosts = [parse_host(line) for line in lines if line]
    if not hosts:
        raise MxdlError(f"hosts file {os.fspath(path)!r} names no host: write one host a line")
    return hosts


def resolve(node):
    """``node`` with its address as an IP: ps-lite binds to DMLC_NODE_HOST, and cannot bind to a name."""
    try:
        return replace(node, address=socket.gethostbyname(node.address))
    except OSError as err:
        raise MxdlError(f"cannot resolve host {node.address!r} ({err}): "
                        "write its IP address in the hosts file") from None


def plan_nodes(num_workers, num_servers, hosts=None):
    """The scheduler, then the servers, then the workers, each placed round-robin on ``hosts``."""
    hosts = hosts or [Node("worker", 0)]

    def on(role, index, host):
        return Node(role, index, host.address, host.ssh, host.ssh_port)

    return ([on("scheduler", 0, hosts[0])]
            + [on("server", j, hosts[j % len(hosts)]) for j in range(num_servers)]
            + [on("worker", i, hosts[i % len(hosts)]) for i in range(num_workers)])


def node_env(node, root, port, num_workers, num_servers):
    """The ps-lite variables for ``node`` when the scheduler listens on ``root:port``."""
    return {"DMLC_ROLE": node.role, "DMLC_PS_ROOT_URI": root, "DMLC_PS_ROOT_PORT": str(port),
            "DMLC_NUM_SERVER": str(num_servers), "DMLC_NUM_WORKER": str(num_workers),
            "DMLC_NODE_HOST": node.address}


def node_argv(node, command, env):
    """The argv that starts ``node`` with ``env`` added: ``command`` itself, or ssh running it remotely."""
    if node.ssh is None:
        return list(command)
    check_env_names(env)
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(env.items()))
    remote = f"cd {shlex.quote(os.getcwd())} && export {exports} && exec {shlex.join(command)}"
    port = ["-p", node.ssh_port] if node.ssh_port else []
    return SSH + port + ["--", node.ssh, remote]     # '--': the destination is never an option


def check_env_names(env):
    """Refuse a variable name that is not a shell name: it would reach the remote shell as code."""
    for name in env:
        if not _ENV_NAME.match(name):
            raise MxdlError(f"--env name {name!r} is not a variable name: use letters, digits and _, "
                            "not starting with a digit")


def check_bounds(num_workers, num_servers, num_hosts=1):
    """Refuse more than MAX_PROCESSES_PER_HOST workers and servers on one host (round-robin placement)."""
    busiest = -(-num_workers // num_hosts) + -(-num_servers // num_hosts)
    if busiest > MAX_PROCESSES_PER_HOST:
        raise MxdlError(f"{_count(num_workers, 'worker')} and {_count(num_servers, 'server')} on "
                        f"{_count(num_hosts, 'host')} put {busiest} "
                        f"processes on one host; at most {MAX_PROCESSES_PER_HOST} a host: ask for "
                        "fewer, or list more hosts")


def _count(n, noun):
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def check_port_free(address, port):
    """Refuse a scheduler port that something on this machine already listens on (remote: not checked)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # a port in TIME_WAIT is free
        try:
            sock.bind((address, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise MxdlError(f"port {port} on {address} is in use: give a free --port, or leave "
                                "--port out to pick one") from None
            if err.errno == errno.EACCES:
                raise MxdlError(f"cannot listen on port {port} on {address} ({err.strerror}): "
                                "give a port above 1023") from None
            # EADDRNOTAVAIL and the like: the scheduler's host is another machine


def free_port(host=LOCALHOST):
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def split_lines(buffer):
    """``bytes`` -> (the complete lines in it, the unfinished rest).

    ``\\n``, ``\\r\\n`` and a lone ``\\r`` each end a line: a progress bar redraws itself with ``\\r``,
    and forwarded as is it would overwrite the prefix.  Blank lines (the empty piece between a bar's
    ``\\r`` and the next, or a line of spaces that clears a bar) are dropped.
    """
    *lines, rest = _LINE_BREAK.split(buffer)    # (a \r\n split over two chunks leaves a blank: dropped)
    return [line for line in lines if line.strip()], rest


def output_lines(chunks):
    """Decoded, non-blank lines from an iterable of byte chunks (see :func:`split_lines`)."""
    rest = b""
    for chunk in chunks:
        lines, rest = split_lines(rest + chunk)
        yield from (line.decode("utf-8", "replace") for line in lines)
    if rest.strip():
        yield rest.decode("utf-8", "replace")


class _Output:
    """Forwards the children's lines with their prefix, one whole line at a time."""

    def __init__(self, quiet_scheduler):
        self.lock = threading.Lock()
        self.ready = threading.Event()      # set when the scheduler reports every node connected
        self.bind_failed = threading.Event()    # set when the scheduler could not listen on its port
        self.quiet_scheduler = quiet_scheduler

    def write(self, text, stream=None):
        with self.lock:
            stream = stream or sys.stdout
            stream.write(text + "\n")
            stream.flush()

    def say(self, message):
        self.write(f"mxdl.launch: {message}", sys.stderr)

    def forward(self, node, pipe):
        prefix = f"[{node.name}] "
        for line in output_lines(iter(lambda: pipe.read1(65536), b"")):
            if node.role == "scheduler":
                if "bind failed" in line:
                    self.bind_failed.set()
                if _READY.search(line):
                    self.ready.set()
                    if self.quiet_scheduler:
                        continue
                if self.quiet_scheduler and _CHATTER.search(line):
                    continue
            self.write(prefix + line)


_PR_SET_PDEATHSIG = 1     # <linux/prctl.h>


def _parent_death_signal():
    """A ``preexec_fn`` that makes the child get SIGTERM when the launcher dies (Linux), or None.

    Everything it needs is looked up here, before the fork: in the child it only calls ``prctl`` and
    ``getppid`` (the launcher may have died between the fork and the ``prctl``: then it exits).
    The signal is sent when the *thread* that started the child ends; children are started from the
    thread that runs :func:`launch`, which outlives them.
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


class _Watchdog:
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


class _Child:
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


class _Terminated(Exception):
    """The launcher itself got SIGTERM."""


@contextlib.contextmanager
def _sigterm_raises():
    """Turn SIGTERM into an exception while we run, so that the children get stopped too."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_code(returncode):
    """A child's exit code as a shell reports it (killed by signal N -> 128 + N)."""
    return 128 - returncode if returncode < 0 else returncode


def _stop(children):
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


def _supervise(children, output, timeout, startup_timeout, num_workers, num_servers):
    """Wait for the job; return its exit code once it is over or must be stopped."""
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
                               f"{output.port} (in use?): give another --port; stopping the others")
                else:
                    output.say(f"{child.node.name} exited with code {_exit_code(code)}; "
                               "stopping the others")
                return _exit_code(code)
        now = time.monotonic()
        if output.ready.is_set() and not announced:
            announced = True
            output.say(f"all {num_workers} workers and {num_servers} servers connected "
                       f"after {now - start:.1f} s")
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
            output.say(f"start-up timed out: {num_workers} workers and {num_servers} servers did not "
                       f"all reach the scheduler within {startup_timeout:g} s (does every worker create "
                       "mx.kv.create('dist_sync')? is the scheduler's address and port reachable?); "
                       "stopping all processes")
            return TIMEOUT_EXIT_CODE
        elif timeout is not None and now - start > timeout:
            output.say(f"timed out after {timeout:g} s; stopping all processes")
            return TIMEOUT_EXIT_CODE
        time.sleep(0.05)


def _check(num_workers, num_servers, port, timeout, startup_timeout):
    if int(num_workers) < 1 or int(num_servers) < 1:
        raise MxdlError(f"need at least 1 worker and 1 server, got {num_workers} workers and "
                        f"{num_servers} servers")
    if port is not None and not 1 <= int(port) <= 65535:
        raise MxdlError(f"port {port} is not a TCP port: give 1..65535")
    for name, value in (("timeout", timeout), ("startup_timeout", startup_timeout)):
        if value is not None and not value > 0:
            raise MxdlError(f"{name} must be a positive number of seconds, got {value}")


def _host_nodes(hosts):
    """``hosts`` (None, a hosts-file path, or host strings/Nodes) -> resolved Nodes, or None."""
    if hosts is None:
        return None
    if isinstance(hosts, (str, os.PathLike)):
        nodes = read_hosts(hosts)
    else:
        nodes = [h if isinstance(h, Node) else parse_host(h) for h in hosts]
    if not nodes:
        raise MxdlError("the list of hosts is empty: give at least one host, or None to run here")
    return [resolve(h) for h in nodes]


def _start(node, command, root, port, num_workers, num_servers, env, quiet, output, preexec_fn=None):
    """Start one node: workers run ``command``; the scheduler and servers only import MXNet."""
    node_vars = {"PYTHONUNBUFFERED": "1", **env, **node_env(node, root, port, num_workers, num_servers)}
    if node.role == "scheduler" and quiet:
        node_vars["PS_VERBOSE"] = "1"     # so that it reports when every node is connected
    argv = command if node.role == "worker" else [sys.executable, "-c", "import mxnet"]
    local_env = {k: v for k, v in os.environ.items() if k != "DMLC_RANK"}
    # (a DMLC_RANK left in the environment would make ps-lite ignore the rank the scheduler assigns)
    return _Child(node, node_argv(node, argv, node_vars), {**local_env, **node_vars}, output, preexec_fn)


def launch(command, num_workers, num_servers, hosts=None, port=None, timeout=None, env=None, *,
           startup_timeout=STARTUP_TIMEOUT):
    """Run ``command`` as dist-kvstore workers beside a scheduler and servers; return the exit code.

    ``command`` is an argv list (or one shell-like string).  ``hosts`` is a hosts-file path or a
    list of ``[user@]address[:ssh_port]`` strings (None: everything on 127.0.0.1).  ``port`` is the
    scheduler's port (default: a free one locally, 9091 with hosts).  ``timeout`` bounds the whole
    run and ``startup_timeout`` the time until every node has reached the scheduler (seconds; both
    return 124).  ``env`` adds variables for every process.  A failing process stops the rest and
    its exit code is returned; 0 means every worker succeeded.  Bad input raises :class:`MxdlError`.
    """
    command = shlex.split(command) if isinstance(command, str) else [os.fspath(a) for a in command]
    if not command:
        raise MxdlError("no COMMAND to run: give the worker command after '--'")
    _check(num_workers, num_servers, port, timeout, startup_timeout)
    num_workers, num_servers = int(num_workers), int(num_servers)
    env = {k: str(v) for k, v in (env or {}).items()}
    check_env_names(env)
    hosts = _host_nodes(hosts)
    check_bounds(num_workers, num_servers, len(hosts or [None]))
    nodes = plan_nodes(num_workers, num_servers, hosts)
    if port is not None or hosts:
        port = int(port) if port is not None else CLUSTER_PORT
        check_port_free(nodes[0].address, port)
    else:
        port = free_port()
    quiet = env.get("PS_VERBOSE", os.environ.get("PS_VERBOSE", "0")) in ("", "0")
    output = _Output(quiet_scheduler=quiet)
    output.port = port
    children = []
    watchdog = _Watchdog()
    preexec_fn = _parent_death_signal()
    try:
        with _sigterm_raises():
            for node in nodes:
                children.append(_start(node, command, nodes[0].address, port, num_workers, num_servers,
                                       env, quiet, output, preexec_fn))
                watchdog.watch(children[-1].proc.pid)
            return _supervise(children, output, timeout, startup_timeout, num_workers, num_servers)
    except KeyboardInterrupt:
        output.say("interrupted; stopping all processes")
        raise
    except _Terminated:
        output.say("terminated; stopping all processes")
        return TERMINATED_EXIT_CODE
    finally:
        _stop(children)
        watchdog.close()


@contextlib.contextmanager
def fail_fast():
    """In a dist-kvstore worker, end the process at once when the block fails, so the launcher sees it.

    Python's normal exit destroys the kvstore, and a dist worker's kvstore first waits in a barrier for
    every other worker (MXNet 1.9.1 ``KVStoreDist::~KVStoreDist``); the other workers wait for its
    gradients.  A worker that fails alone therefore hangs forever instead of exiting, and so does
    one that merely returns from the function holding its kvstore.  Inside this block an exception,
    or ``sys.exit(code)`` with a non-zero code, is reported (traceback, or ``error: ...`` for an
    :class:`MxdlError`) and ends the process with ``os._exit`` while the kvstore is still alive, so
    its exit code reaches the launcher, which stops the rest.  Outside a worker (no
    ``DMLC_ROLE=worker``) it changes nothing.  Wrap the code that holds the kvstore or the Trainer::

        with launch.fail_fast():
            history = fit(net, loss_fn, train, kvstore="dist_sync", ...)
    """
    if os.environ.get("DMLC_ROLE") != "worker":
        yield
        return
    try:
        yield
    except SystemExit as exit_:
        if not exit_.code:
            raise      # success: the normal exit runs the kvstore's last barrier; rank 0 stops the servers
        if isinstance(exit_.code, int):
            code = exit_.code
        else:
            print(exit_.code, file=sys.stderr)
            code = 1
        _exit_now(code)
    except MxdlError as err:
        print(f"error: {err}", file=sys.stderr)
        _exit_now(1)
    except KeyboardInterrupt:
        _exit_now(130)
    except BaseException:  # whatever it was, it must not reach the kvstore's destructor
        traceback.print_exc()
        _exit_now(1)


def _exit_now(code):
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _port(text):
    value = cli.positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (1..65535)")
    return value


def _env_pair(text):
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    if not _ENV_NAME.match(name):
        raise argparse.ArgumentTypeError(f"{name!r} is not a variable name (letters, digits and _, "
                                         "not starting with a digit)")
    return name, value


def build_parser():
    # Defaults are written into the help by hand: several are "chosen at run time", not one value.
    parser = cli.ArgumentParser(
        prog="python -m mxdl.distributed.launch", formatter_class=argparse.HelpFormatter,
        description="Run COMMAND as MXNet dist-kvstore workers, beside a scheduler and servers.",
        epilog="Example: python -m mxdl.distributed.launch --workers 2 --servers 1 -- "
               "python scripts/mnist.py --kvstore dist_sync")
    parser.add_argument("--workers", type=cli.positive_int, required=True, metavar="M",
                        help="number of workers (required; with --servers, at most "
                             f"{MAX_PROCESSES_PER_HOST} a host)")
    parser.add_argument("--servers", type=cli.positive_int, default=1, metavar="N",
                        help="number of servers (default: 1)")
    parser.add_argument("--hosts", metavar="FILE", default=None,
                        help="hosts file, one [user@]address[:ssh_port] a line: run over ssh "
                             "(default: everything on 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=None, metavar="P",
                        help=f"scheduler port (default: a free port locally, {CLUSTER_PORT} with --hosts)")
    parser.add_argument("--timeout", type=cli.positive_float, default=None, metavar="S",
                        help="stop everything after S seconds (default: no limit)")
    parser.add_argument("--startup-timeout", type=cli.positive_float, default=STARTUP_TIMEOUT,
                        metavar="S", help="seconds for all servers and workers to reach the "
                                          f"scheduler (default: {STARTUP_TIMEOUT:g})")
    parser.add_argument("--env", type=_env_pair, action="append", default=[], metavar="NAME=VALUE",
                        help="set a variable for every process; repeatable (default: none)")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND...",
                        help="the worker program and its arguments")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("missing COMMAND: put the worker command after '--'")
    try:
        hosts = read_hosts(args.hosts) if args.hosts is not None else None
        check_bounds(args.workers, args.servers, len(hosts or [None]))
        hosts = [resolve(h) for h in hosts] if hosts is not None else None
    except MxdlError as err:
        parser.error(str(err))
    return launch(command, args.workers, args.servers, hosts=hosts, port=args.port, timeout=args.timeout,
                  env=dict(args.env), startup_timeout=args.startup_timeout)


if __name__ == "__main__":
    sys.exit(cli.run(main))
