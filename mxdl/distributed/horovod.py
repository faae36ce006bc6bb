"""Horovod, the second distributed engine: ring-allreduce between processes started by ``horovodrun``.

MXNet's own way to train on several machines is its parameter server (``dist_sync``, started by
``python -m mxdl.distributed.launch``).  Horovod needs no servers: every process (a *rank*) holds the whole net,
computes the gradient of its part of each global batch, and the ranks average their gradients
among themselves (allreduce, over Gloo or MPI) before every rank applies the same SGD update.
``horovodrun -np 4 -H host1:2,host2:2 --gloo python ...`` starts the ranks (over ssh on other hosts).

What a rank does here, for the same maths as one process with the global batch:

* :func:`init` -- this process's :class:`Ranks` (its rank and the job's size) from Horovod, with a
  one-line :class:`~mxdl.errors.MxdlError` when Horovod is not installed or the process was not
  started by ``horovodrun``.  ``fit(..., kvstore=horovod.init())`` does the rest;
* :func:`mxdl.distributed.parallel.shard` with the :class:`Ranks` (the same interleaved, equal shards
  as ``dist_sync``: samples r, r + N, r + 2N, ...
  of rank r; the last ``len mod N`` samples are left out, so every rank takes the same steps and
  a short last batch is equally short on every rank);
* :func:`make_trainer` -- rank 0's initial parameters broadcast to every rank
  (``hvd.broadcast_parameters``), then ``hvd.DistributedTrainer(params, 'sgd', ...)``, which
  averages the ranks' gradients in ``step``.  ``trainer.step(local batch size)`` then applies lr
  to the mean gradient of the global batch (``step(global batch size)`` would divide by the number
  of ranks twice: a learning rate N times too small).

``gluon.Trainer(..., kvstore='horovod')`` looks like the same thing but is not: in the MXNet 1.9.1
wheel it falls back to a local kvstore with one worker, so the ranks train apart with no error.
:func:`refuse_horovod_kvstore` turns that into an error.
"""
import glob
import importlib.util
import os

from ..errors import MxdlError

# Set by horovodrun (Gloo: HOROVOD_RANK; MPI: mpirun's own) in every process it starts.
_LAUNCH_VARIABLES = ("HOROVOD_RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK")

NOT_INSTALLED = ("--dist horovod needs Horovod, which is not installed: build it into this environment "
                 "with 'make horovod' (see the README's Horovod section)")
NOT_IMPORTABLE = ("--dist horovod needs Horovod's MXNet support, which is installed but cannot be imported "
                  "({}): rebuild it against this mxnet with 'make horovod'")
NOT_LAUNCHED = ("--dist horovod needs processes started by horovodrun, e.g. 'horovodrun -np 2 -H "
                "localhost:2 --gloo python -m mxdl.commands.mnist --dist horovod'")
KVSTORE_HOROVOD = ("kvstore 'horovod' does not share gradients in MXNet 1.9.1 (the ranks would train "
                   "apart with no error): use --dist horovod, or fit(..., kvstore=mxdl.distributed."
                   "horovod.init()), which train with hvd.DistributedTrainer")


def available():
    """True when Horovod is installed with its MXNet support (its compiled ``horovod/mxnet/mpi_lib``).

    Looks without importing ``horovod.mxnet``: that loads Horovod's library into the process, and a
    process that then imports PyTorch (``tensorboardX`` does when torch is installed) crashes.
    """
    try:
        spec = importlib.util.find_spec("horovod")
    except (ImportError, ValueError):  # ValueError: a None or spec-less "horovod" in sys.modules
        return False
    if spec is None or not spec.submodule_search_locations:
        return False
    return any(glob.glob(os.path.join(d, "mxnet", "mpi_lib*")) for d in spec.submodule_search_locations)


def launched():
    """True when this process was started by ``horovodrun`` (or ``mpirun``)."""
    return any(name in os.environ for name in _LAUNCH_VARIABLES)


def _hvd():
    if not available():
        raise MxdlError(NOT_INSTALLED)
    try:
        import horovod.mxnet as hvd  # pylint: disable=import-outside-toplevel
    except ImportError as err:
        raise MxdlError(NOT_IMPORTABLE.format(err)) from None
    return hvd


class Ranks:
    """The Horovod job this process is one rank of: ``rank`` and ``num_workers`` (the job's size).

    Give it to :func:`mxdl.train.fit` as its ``kvstore`` to train with Horovod: ``fit`` then trains
    on this rank's :func:`~mxdl.distributed.parallel.shard` with the trainer of :func:`make_trainer` (see
    :mod:`mxdl.distributed.parallel`).  It is not an MXNet KVStore: Horovod replaces the kvstore.
    """

    def __init__(self, rank, num_workers):
        self.rank, self.num_workers = rank, num_workers

    def __repr__(self):
        return f"horovod rank {self.rank} of {self.num_workers}"


def init():
    """Start Horovod in this process; return its :class:`Ranks` (``.rank``, ``.num_workers``).

    Refuses to start outside ``horovodrun``, where ``hvd.init()`` would silently make a job of one.
    Safe to call more than once.
    """
    if not available():
        raise MxdlError(NOT_INSTALLED)
    if not launched():
        raise MxdlError(NOT_LAUNCHED)
    hvd = _hvd()
    if not hvd.is_initialized():
        hvd.init()
    return Ranks(hvd.rank(), hvd.size())


def make_trainer(net, optimizer_params, *, lean=True):
    """Rank 0's parameters on every rank, and an SGD ``hvd.DistributedTrainer`` for them with
    ``optimizer_params`` (``learning_rate``, optionally ``momentum`` and ``wd``: those of
    :func:`mxdl.train.make_trainer`, which calls this for a Horovod ``kvstore``).

    Call :func:`init` first, and ``trainer.step(b)`` with this rank's batch size ``b``: the trainer
    sums the ranks' gradients and divides by ``b`` times the number of ranks, the global batch.
    ``lean``: the trainer also updates plain SGD with one operator call per parameter, as
    :class:`mxdl.engine.SGDTrainer` does (the same numbers; False: Gluon's own update).
    """
    hvd = _hvd()
    params = net.collect_params()
    hvd.broadcast_parameters(params, root_rank=0)
    kind = _lean_trainer_class(hvd) if lean else hvd.DistributedTrainer
    return kind(params, "sgd", optimizer_params)


def _lean_trainer_class(hvd):
    from ..engine import SGDTrainer  # pylint: disable=import-outside-toplevel  (imports MXNet)

    class LeanDistributedTrainer(hvd.DistributedTrainer, SGDTrainer):
        """Horovod's ``step`` (allreduce of the gradients), then SGDTrainer's one-call SGD update."""

    return LeanDistributedTrainer


def refuse_horovod_kvstore(kvstore):
    """Raise when ``kvstore`` is (or names) MXNet's 'horovod' kvstore, which does nothing in 1.9.1."""
    name = kvstore if isinstance(kvstore, str) else getattr(kvstore, "type", None)  # (Ranks has none)
    if isinstance(name, str) and name.lower() == "horovod":
        raise MxdlError(KVSTORE_HOROVOD)
