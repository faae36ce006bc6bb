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

Without ``--hosts`` everything runs on this machine, bound to 127.0.0.1; with ``--hosts FILE`` each
process runs through ``ssh`` on its host.  The launcher forwards every output line with a
``[worker 0] ``/``[server 0] ``/``[scheduler] `` prefix, stops everything (process groups: SIGTERM,
then SIGKILL) as soon as one process fails, on Ctrl-C or on a timeout, and returns the first non-zero
exit code (0 when every worker succeeded).  The children die with the launcher, even on SIGKILL.

This module ties the launcher's parts together into :func:`launch` (the library call) and
:func:`main` (the command line).  The parts, each importing only the standard library,
:mod:`mxdl.errors` and parts listed before it (none imports this module):

* :mod:`~mxdl.distributed.hosts` -- where each process runs: hosts files, round-robin placement,
  the ps-lite variables, the shell-quoted ssh command, the per-host bounds, the port checks;
* :mod:`~mxdl.distributed.output` -- every child's lines forwarded whole, with their prefix;
* :mod:`~mxdl.distributed.watchdog` -- the children die with the launcher (parent-death signal and
  a watchdog process);
* :mod:`~mxdl.distributed.worker` -- :func:`fail_fast`, for the worker program (also importable
  from here);
* :mod:`~mxdl.distributed.supervisor` -- start, watch and stop the process groups; the exit code.

A worker program should wrap its training in :func:`fail_fast`: a dist worker that fails alone
otherwise hangs in its kvstore's destructor, and the launcher never learns that it failed.
"""
import argparse
import os
import shlex
import sys

from .. import cli
from ..errors import MxdlError
from .hosts import (CLUSTER_PORT, ENV_NAME, MAX_PROCESSES_PER_HOST, check_bounds, check_env_names,
                    check_port_free, count, free_port, host_nodes, node_argv, node_env, plan_nodes,
                    read_hosts, resolve)
from .output import Output
from .supervisor import Child, Terminated, sigterm_raises, stop, supervise
from .watchdog import TERMINATED_EXIT_CODE, Watchdog, parent_death_signal
from .worker import fail_fast  # noqa: F401  (documented as mxdl.distributed.launch.fail_fast)

STARTUP_TIMEOUT = 60.0         # seconds for every node to reach the scheduler


def _check(num_workers, num_servers, port, timeout, startup_timeout):
    if int(num_workers) < 1 or int(num_servers) < 1:
        raise MxdlError(f"need at least 1 worker and 1 server, got {count(int(num_workers), 'worker')} "
                        f"and {count(int(num_servers), 'server')}")
    if port is not None and not 1 <= int(port) <= 65535:
        raise MxdlError(f"port {port} is not a TCP port: give 1..65535")
    for name, value in (("timeout", timeout), ("startup_timeout", startup_timeout)):
        if value is not None and not value > 0:
            raise MxdlError(f"{name} must be a positive number of seconds, got {value}")


def _start(node, command, root, port, num_workers, num_servers, env, quiet, output, preexec_fn=None):
    """Start one node: workers run ``command``; the scheduler and servers only import MXNet."""
    node_vars = {"PYTHONUNBUFFERED": "1", **env, **node_env(node, root, port, num_workers, num_servers)}
    if node.role == "scheduler" and quiet:
        node_vars["PS_VERBOSE"] = "1"     # so that it reports when every node is connected
    argv = command if node.role == "worker" else [sys.executable, "-c", "import mxnet"]
    local_env = {k: v for k, v in os.environ.items() if k != "DMLC_RANK"}
    # (a DMLC_RANK left in the environment would make ps-lite ignore the rank the scheduler assigns)
    return Child(node, node_argv(node, argv, node_vars), {**local_env, **node_vars}, output, preexec_fn)


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
    hosts = host_nodes(hosts)
    check_bounds(num_workers, num_servers, len(hosts or [None]))
    nodes = plan_nodes(num_workers, num_servers, hosts)
    if port is not None or hosts:
        port = int(port) if port is not None else CLUSTER_PORT
        check_port_free(nodes[0].address, port)
    else:
        port = free_port()
    quiet = env.get("PS_VERBOSE", os.environ.get("PS_VERBOSE", "0")) in ("", "0")
    output = Output(quiet_scheduler=quiet)
    children = []
    watchdog = Watchdog()
    preexec_fn = parent_death_signal()
    try:
        with sigterm_raises():
            for node in nodes:
                children.append(_start(node, command, nodes[0].address, port, num_workers, num_servers,
                                       env, quiet, output, preexec_fn))
                watchdog.watch(children[-1].proc.pid)
            return supervise(children, output, timeout, startup_timeout, num_workers, num_servers, port)
    except KeyboardInterrupt:
        output.say("interrupted; stopping all processes")
        raise
    except Terminated:
        output.say("terminated; stopping all processes")
        return TERMINATED_EXIT_CODE
    finally:
        stop(children)
        watchdog.close()


def _port(text):
    value = cli.positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (1..65535)")
    return value


def _env_pair(text):
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    if not ENV_NAME.match(name):
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
