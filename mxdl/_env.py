"""Environment defaults that MXNet reads once, when it is first imported.

``import mxdl`` applies them before it imports MXNet, with ``os.environ.setdefault``: a variable the
user has already set wins, and ``MXDL_ENV_DEFAULTS=0`` turns them all off.  They only take effect if
MXNet has not been imported yet, so import mxdl first.  Which values won, and by how much, is measured
in bench/README.md.
"""
import os
import sys


# name -> value; each entry is justified by a measurement in bench/README.md ("Levers").
DEFAULTS = {
    # One OpenMP thread per operator.  MXNet's engine runs the operators on a worker thread while
    # Python prepares the next step; a second OpenMP thread oversubscribes 2 cores, and its
    # fork/join and wake-up costs outweigh the maths of a small net: with 2 threads the dense nets
    # train 6-13x slower (mlp at batch 64: 0.32 -> 2.0 s per epoch).  LeNet's convolutions lose
    # about 10% with one thread; bench/README.md shows the settings that suit a conv net.
    "OMP_NUM_THREADS": "1",
    # fit binds an MXNet executor; without this, every bind logs "Subgraph backend MKLDNN is
    # activated." (the MKLDNN subgraph backend itself stays on; it leaves training graphs alone).
    "MXNET_SUBGRAPH_VERBOSE": "0",
}


def apply():
    """Set the defaults that the user has not set; return the names this call set."""
    if os.environ.get("MXDL_ENV_DEFAULTS", "1") == "0":
        return []
    applied = []
    for name, value in DEFAULTS.items():
        if name not in os.environ:
            os.environ[name] = value
            applied.append(name)
    return applied


def mxnet_already_imported():
    """True when MXNet was imported before mxdl, so the defaults came too late to matter."""
    return "mxnet" in sys.modules
