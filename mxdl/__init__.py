"""mxdl: the talk "Foundational Mathematical Concepts in Deep Learning" on Apache MXNet Gluon.

Importing mxdl sets a few performance-related environment defaults for MXNet (see ``mxdl/env.py``)
before MXNet is imported; nothing else happens at import time.
"""
from . import env

env.apply()

__version__ = "0.1.0"
