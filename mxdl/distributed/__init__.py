"""Training on several devices and several machines (see the README's "Several devices and several machines").

:mod:`~mxdl.distributed.parallel` decides, once, how a run is spread (devices, shards, kvstore,
rank); :mod:`~mxdl.distributed.launch` starts a ps-lite job (``python -m mxdl.distributed.launch``);
:mod:`~mxdl.distributed.horovod` is the Horovod alternative.  Nothing here imports MXNet at package
import time.
"""
