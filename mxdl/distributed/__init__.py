"""Training on several devices and several machines (see the README's "Several devices and several machines").

:mod:`~mxdl.distributed.parallel` decides, once, how a run is spread (devices, shards, kvstore,
rank); :mod:`~mxdl.distributed.launch` starts a ps-lite job (``python -m mxdl.distributed.launch``; its
parts are :mod:`~mxdl.distributed.hosts`, :mod:`~mxdl.distributed.output`,
:mod:`~mxdl.distributed.watchdog`, :mod:`~mxdl.distributed.supervisor` and
:mod:`~mxdl.distributed.worker`);
:mod:`~mxdl.distributed.horovod` is the Horovod alternative.  Nothing here imports MXNet at package
import time.
"""
