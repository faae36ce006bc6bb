"""Data parallelism and distributed training, decided once: devices, kvstore, shards, rank.

The talk's loop trains on one device.  To scale it out:

* several devices of one machine (``--ctx gpu:0,gpu:1``) each take a part of every batch
  (:func:`split`) and the Trainer's kvstore (``device`` or ``local``) sums their gradients;
* several processes (``--kvstore dist_sync`` / ``dist_async``, started by
  ``python -m mxdl.distributed.launch``) each train on their own shard of the data (:func:`shard`)
  and share gradients through ps-lite servers;
* or several Horovod ranks (``--dist horovod``, started by ``horovodrun``): each trains on its shard
  too, and the ranks average their gradients by allreduce (:mod:`mxdl.distributed.horovod`).  The
  Horovod job (a :class:`~mxdl.distributed.horovod.Ranks`) stands where the kvstore would be.

Everything here answers one question once: is this run distributed (:func:`is_distributed`: a
ps-lite kvstore; :func:`is_horovod`; :func:`is_sharded`: either), which worker is this
(:func:`worker_rank`), where is the kvstore made (:func:`make_kvstore`, the only ``mx.kv.create``),
and may several devices train without one (:func:`check_kvstore`).
"""
import os

import mxnet as mx
from mxnet import gluon

from ..errors import MxdlError
from .horovod import Ranks, refuse_horovod_kvstore

# With no kvstore each device's Trainer updates its own copy: the copies silently diverge.
NO_KVSTORE = ("several devices need a kvstore to share gradients ('device' or 'local'); "
              "kvstore=None would train diverging copies")


def _kind(kvstore):
    """The kvstore's type name: ``'device'``, ``'dist_sync'``, ... ('' for None)."""
    return kvstore if isinstance(kvstore, str) else getattr(kvstore, "type", "") or ""


def is_distributed(kvstore):
    """True for a ``dist_*`` kvstore (a name or a created KVStore): this process is one worker of many."""
    return _kind(kvstore).startswith("dist")


def is_horovod(kvstore):
    """True when ``kvstore`` is a Horovod job (:func:`mxdl.distributed.horovod.init`): this process is one rank."""
    return isinstance(kvstore, Ranks)


def is_sharded(kvstore):
    """True when this process is one of several that each train on their own shard (ps-lite or Horovod)."""
    return is_distributed(kvstore) or is_horovod(kvstore)


def make_kvstore(kvstore, dist=None):
    """The kvstore to train with: a name (``'device'``, ``'local'``), a KVStore or None as given;
    a ``dist_*`` name created here -- the one place mxdl calls ``mx.kv.create``; with
    ``dist='horovod'``, this process's Horovod job (:func:`mxdl.distributed.horovod.init`) instead.

    Creating a ``dist_*`` kvstore connects this worker to the scheduler, which the launcher waits
    for (its start-up timeout), so a demo does it first, before loading data.
    """
    if dist == "horovod":
        if is_distributed(kvstore):
            raise MxdlError(f"choose one distributed engine: kvstore {_kind(kvstore)} (ps-lite, "
                            "python -m mxdl.distributed.launch) or dist horovod (horovodrun), not both")
        from . import horovod  # pylint: disable=import-outside-toplevel

        return horovod.init()
    if dist is not None:
        raise MxdlError(f"dist must be None or 'horovod', got {dist!r}")
    if not (isinstance(kvstore, str) and is_distributed(kvstore)):
        return kvstore
    if "DMLC_ROLE" not in os.environ:
        raise MxdlError(f"kvstore {kvstore} needs a distributed launch (the DMLC_* environment "
                        "variables are not set): start the workers with python -m "
                        "mxdl.distributed.launch, e.g. 'python -m mxdl.distributed.launch --workers 2 "
                        f"-- python scripts/mnist.py --kvstore {kvstore}', or use --kvstore device")
    return mx.kv.create(kvstore)


def worker_rank(kvstore):
    """``(rank, num_workers)`` of this process: ``(0, 1)`` unless ``kvstore`` is a created dist KVStore."""
    return getattr(kvstore, "rank", 0), getattr(kvstore, "num_workers", 1)


def check_kvstore(ctxs, kvstore):
    """Refuse MXNet's 'horovod' kvstore (it does nothing in 1.9.1: see :mod:`mxdl.distributed.horovod`)
    and several devices without a kvstore (their copies of the net would drift apart)."""
    refuse_horovod_kvstore(kvstore)
    if len(ctxs) > 1 and kvstore is None:
        raise MxdlError(NO_KVSTORE)
    if len(ctxs) > 1 and is_horovod(kvstore):
        raise MxdlError(f"a Horovod rank trains on one device, got {len(ctxs)}: start one rank per "
                        "device instead (horovodrun -np N)")


def shard(X, y, kvstore):
    """This worker's equal-sized share of the data: samples rank, rank + M, rank + 2M, ... of M workers.

    Equal, so that dist_sync workers stay in step (the last ``N mod M`` samples are left out);
    interleaved, so that without shuffling step k of M workers with batch b sees exactly the
    samples of step k of one process with batch M * b.
    """
    rank, num_workers = worker_rank(kvstore)
    per_worker = len(X) // num_workers
    if per_worker == 0:
        raise MxdlError(f"{len(X)} training samples cannot be shared by {num_workers} workers")
    used = per_worker * num_workers
    return X[rank:used:num_workers], y[rank:used:num_workers]


def split(X_batch, y_batch, ctxs):
    """``[(X_part, y_part), ...]``, one part per device, for data-parallel training.

    A batch smaller than the number of devices (SGD, a short last batch) uses only the first
    ``size`` devices: ``split_and_load`` would otherwise make empty parts.  See :func:`idle_parts`.
    """
    if len(ctxs) == 1:
        return [(X_batch, y_batch)]
    ctxs = ctxs[:X_batch.shape[0]]
    return list(zip(gluon.utils.split_and_load(X_batch, ctxs, even_split=False),
                    gluon.utils.split_and_load(y_batch, ctxs, even_split=False)))


def idle_parts(parts, ctxs):
    """A one-sample stand-in batch for each device that got no part of this batch.

    Its loss is multiplied by 0, so it adds a zero gradient: the kvstore sums every device's
    gradient, and an idle device would otherwise contribute its stale one from the last batch (and
    the Trainer refuses stale gradients).
    """
    X_part, y_part = parts[0]
    return [(X_part[:1].as_in_context(c), y_part[:1].as_in_context(c)) for c in ctxs[len(parts):]]


def describe_scale_out(kvstore, batch_size, lr, num_samples):
    """One line saying, for a dist kvstore or Horovod, this process's share of the data and what one
    update is (None otherwise)."""
    if not is_sharded(kvstore):
        return None
    rank, num_workers = worker_rank(kvstore)
    if is_horovod(kvstore):
        return (f"horovod: rank {rank} of {num_workers} trains on {num_samples // num_workers} of the "
                f"{num_samples} training samples (numbers {rank}, {rank + num_workers}, "
                f"{rank + 2 * num_workers}, ...); one update = {batch_size} samples x {num_workers} "
                f"ranks = global batch {batch_size * num_workers}, lr {lr} on its mean gradient "
                "(averaged by allreduce)")
    name = _kind(kvstore)
    share = (f"{name}: worker {rank} of {num_workers} trains on {num_samples // num_workers} "
             f"of the {num_samples} training samples (numbers {rank}, {rank + num_workers}, "
             f"{rank + 2 * num_workers}, ...); ")
    if name == "dist_sync":
        return share + (f"one update = {batch_size} samples x {num_workers} workers = global batch "
                        f"{batch_size * num_workers}, lr {lr} on its mean gradient")
    return share + (f"the servers apply each worker's batch of {batch_size} as it arrives, with lr "
                    f"{lr} / {num_workers} workers on its mean gradient (no waiting, no "
                    "global batch)")
