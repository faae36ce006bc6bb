"""Environment defaults that MXNet reads once, when it is first imported.

``import mxdl`` applies them (:func:`apply`) without importing MXNet: a variable the user has already
set wins, and ``MXDL_ENV_DEFAULTS=0`` turns them all off.  They only take effect if MXNet has not been
imported yet, so import mxdl first.  A command that knows which model it trains, and at which batch
size, calls :func:`configure` with them, after parsing its flags and before anything imports MXNet::

    from mxdl import env
    env.configure("mlp", batch_size=256)   # that run's thread settings, unless the user set them
    import mxnet

Which values won, and by how much, is measured in bench/README.md ("Threads per model and batch size").
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

# Two OpenMP threads that keep spinning between operators (without ACTIVE, libgomp sleeps and wakes
# them for every operator when it has as many threads as cores).  A spinning thread costs a core for
# the life of the process, which a training run on the CPU uses anyway.
TWO_SPINNING_THREADS = {"OMP_NUM_THREADS": "2", "OMP_WAIT_POLICY": "ACTIVE"}

# Per model: (smallest batch size, settings) that replace DEFAULTS for a process that trains only that
# model at that batch size or more, and knows it before MXNet is imported (mxdl-mnist).  Measured on
# 2 cores with bench/threads.py (bench/README.md, "Threads per model and batch size"; µs per update,
# one thread -> two spinning): LeNet's convolutions want both cores at any batch size (an epoch at
# batch 64: 10.8 s -> 6.3 s).  The dense nets' first layer is a matrix product worth splitting once
# the batch is large enough, now that the fast path leaves the main thread idle: the mlp from batch
# 32 (32: 423 -> 365; 256: 1566 -> 981; but 1: 248 -> 270), the logistic regression's small 784x10
# layer from batch 256 (256: 387 -> 293; 64: 145 -> 155; 1: 59 -> 86).
MODEL_DEFAULTS = {
    "lenet": (1, TWO_SPINNING_THREADS),
    "mlp": (32, TWO_SPINNING_THREADS),
    "logreg": (256, TWO_SPINNING_THREADS),
}


def model_defaults(model, batch_size=None):
    """The settings :func:`configure` chooses for ``model`` at ``batch_size`` ({}: DEFAULTS alone).
    A batch size not known counts as 1, the smallest: it gets two threads only where every size does."""
    smallest, settings = MODEL_DEFAULTS.get(model, (1, {}))
    if (batch_size or 1) < smallest:
        return {}
    if len(os.sched_getaffinity(0)) < int(settings.get("OMP_NUM_THREADS", 1)):
        return {}  # (a spinning thread wants a core of its own)
    return settings


_set_by_mxdl = set()  # names that mxdl set (and may replace), as opposed to the user


def apply():
    """Set the defaults that the user has not set; return the names this call set."""
    if os.environ.get("MXDL_ENV_DEFAULTS", "1") == "0":
        return []
    applied = []
    for name, value in DEFAULTS.items():
        if name not in os.environ:
            os.environ[name] = value
            applied.append(name)
    _set_by_mxdl.update(applied)
    return applied


def configure(model, batch_size=None):
    """Switch to :func:`model_defaults` where the user has not set a variable; return the names set.

    Does nothing once MXNet is imported (too late to matter) or with ``MXDL_ENV_DEFAULTS=0``.
    """
    if os.environ.get("MXDL_ENV_DEFAULTS", "1") == "0" or mxnet_already_imported():
        return []
    applied = []
    for name, value in model_defaults(model, batch_size).items():
        if name not in os.environ or name in _set_by_mxdl:
            os.environ[name] = value
            applied.append(name)
    _set_by_mxdl.update(applied)
    return applied


def mxnet_already_imported():
    """True when MXNet was imported before mxdl, so the defaults came too late to matter."""
    return "mxnet" in sys.modules
