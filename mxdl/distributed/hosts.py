"""Where the launcher's processes run: hosts files, round-robin placement, the ps-lite environment,
and the ssh command that starts a process on another host.

With ``--hosts FILE`` (one ``[user@]address[:ssh_port]`` a line; ``#`` comments) the scheduler runs on
the first host, server ``j`` on host ``j mod H`` and worker ``i`` on host ``i mod H``, each through
``ssh`` that exports the environment and changes to this directory: the code, the data and this
Python must be at the same paths on every host.  Without hosts everything runs here, on 127.0.0.1.

The remote command is built with every piece shell-quoted, ``--env`` names must be shell names, a
host line may not begin with ``-`` and ssh's options end with ``--``.  At most
``MAX_PROCESSES_PER_HOST`` workers and servers may run on one host.  Only the standard library and
:mod:`mxdl.errors` are imported here.
"""
import errno
import os
import re
import shlex
import socket
from dataclasses import dataclass, replace
from typing import Optional

from ..errors import MxdlError

LOCALHOST = "127.0.0.1"
CLUSTER_PORT = 9091            # scheduler port with --hosts (a free port cannot be probed remotely)
SSH = ["ssh", "-tt", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]
# -tt gives the remote command a terminal, so that it gets SIGHUP when we close the connection.
MAX_PROCESSES_PER_HOST = 64    # workers + servers on any one host (each is a whole MXNet process)
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")     # a POSIX shell variable name


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


def host_nodes(hosts):
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
        if not ENV_NAME.match(name):
            raise MxdlError(f"--env name {name!r} is not a variable name: use letters, digits and _, "
                            "not starting with a digit")


def check_bounds(num_workers, num_servers, num_hosts=1):
    """Refuse more than MAX_PROCESSES_PER_HOST workers and servers on one host (round-robin placement)."""
    busiest = -(-num_workers // num_hosts) + -(-num_servers // num_hosts)
    if busiest > MAX_PROCESSES_PER_HOST:
        raise MxdlError(f"{count(num_workers, 'worker')} and {count(num_servers, 'server')} on "
                        f"{count(num_hosts, 'host')} put {busiest} "
                        f"processes on one host; at most {MAX_PROCESSES_PER_HOST} a host: ask for "
                        "fewer, or list more hosts")


def count(n, noun):
    """``'1 server'``, ``'2 servers'``: a number and its noun, in the plural unless it is 1."""
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
