"""Environment defaults that MXNet reads once, when it is first imported.

``import mxdl`` applies them (:func:`apply`) without importing MXNet: a variable the user has already
set wins, and ``MXDL_ENV_DEFAULTS=0`` turns them all off.  They only take effect if MXNet has not been
imported yet, so import mxdl first.  A command that knows which model it trains calls
:func:`configure` with it, after parsing its flags and before anything imports MXNet::

    from mxdl import env
    env.configure("lenet")      # LeNet's thread settings (MODEL_DEFAULTS), unless the user set them
    import mxnet  Which values won, and by how much, is measured
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

# Per model, what replaces DEFAULTS for a process that trains only that model and knows it before
# MXNet is imported (mxdl-mnist).  LeNet's convolutions want both cores: two OpenMP threads
# that keep spinning between operators (otherwise libgomp sleeps and wakes them for every operator
# when it has as many threads as cores) take a LeNet epoch from 10.8 s to 6.3 s here; the same
# settings make the dense nets slower, so they are not the general default.  A spinning thread
# costs a core for the life of the process, which a training run uses anyway.
MODEL_DEFAULTS = {
    "lenet": {"OMP_NUM_THREADS": "2", "OMP_WAIT_POLICY": "ACTIVE"},
}

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


def configure(model):
    """Switch to ``MODEL_DEFAULTS[model]`` where the user has not set a variable; return the names set.

    Does nothing once MXNet is imported (too late to matter) or with ``MXDL_ENV_DEFAULTS=0``.
    """
    if os.environ.get("MXDL_ENV_DEFAULTS", "1") == "0" or mxnet_already_imported():
        return []
    applied = []
    for name, value in MODEL_DEFAULTS.get(model, {}).items():
        if name not in os.environ or name in _set_by_mxdl:
            os.environ[name] = value
            applied.append(name)
    _set_by_mxdl.update(applied)
    return applied


def mxnet_already_imported():
    """True when MXNet was imported before mxdl, so the defaults came too late to matter."""
    return "mxnet" in sys.modules
