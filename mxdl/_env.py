"""Environment defaults that MXNet reads once, when it is first imported.

``import mxdl`` applies them before it imports MXNet, with ``os.environ.setdefault``: a variable the
user has already set wins, and ``MXDL_ENV_DEFAULTS=0`` turns them all off.  They only take effect if
MXNet has not been imported yet, so import mxdl first.  Which values won, and by how much, is measured
in bench/README.md.
"""
import os
import sys

# name -> value; each entry is justified by a measurement in bench/README.md.
DEFAULTS = {}


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
