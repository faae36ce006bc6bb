"""The MNIST demo as one library call: load the data, build the net, fit it, write what happened.

The talk ends with multiclass logistic regression on MNIST (``Dense(10)``, ``SoftmaxCrossEntropyLoss``,
SGD with lr 0.1, batches of 64, 4 epochs) printing one line per epoch, then ten test digits with the
model's predictions.  :func:`run` does exactly that for any :class:`~mxdl.config.Config`::

    from mxdl.config import Config
    from mxdl.demos.mnist_demo import run, write_outputs
    result = run(Config(dataset="mnist-t10k", model="mlp"))
    result.history.last.test_acc

and :func:`load_trained` + :func:`classify` are the "predict" half: a saved net labels new images.
``write_outputs`` (the ``--out`` folder) lives in :mod:`mxdl.demos.mnist_outputs`, imported here.
At about 320 lines this module is a little over the house's ~300: what is left is one run's flow
(data, resume, devices, training hooks, saving) that reads top to bottom.
"""
import dataclasses
import math
import os
import sys
import time

import numpy as np
from mxnet import gluon

from .. import checkpoint as ckpt
from ..config import Config
from ..context import describe_ctx, parse_ctx
from ..data import check_data_dir, load_dataset_or_fallback
from ..distributed.parallel import (describe_scale_out, is_distributed, is_horovod, make_kvstore,
                                    worker_rank)
from ..errors import MxdlError
from ..models import default_init, describe_model, get_model
from ..optim import apply_schedule, make_trainer
from ..train import EpochStats, History, Settings, fit, predict
from ..utils import (check_output_dir, check_output_file, load_params, num_params, save_params,
                     seed_everything)
from .mnist_outputs import write_outputs  # the demo pattern's name: run(config, log) -> write_outputs


@dataclasses.dataclass
class Result:
    """What :func:`run` produced: the trained ``net``, its ``history``, the data and the effective config."""

    net: gluon.HybridBlock
    history: list
    dataset: object
    config: Config
    outputs: dict  # name -> path of every file written
    rank: int = 0  # this worker's rank with a dist kvstore (0 otherwise)
    num_workers: int = 1  # workers of the dist job (1 without a dist kvstore)
    ctxs: list = None  # the devices it trained on
    timings: dict = dataclasses.field(default_factory=dict)  # seconds: data, training, total, ...


def epoch_line(stats):
    """The demo's per-epoch line, with the time it took: ``Epoch 1. Loss 0.52, Train_acc ...``."""
    return (f"Epoch {stats.epoch}. Loss {stats.cost:.4f}, Train_acc {stats.train_acc:.4f}, "
            f"Test_acc {stats.test_acc:.4f} ({stats.seconds:.2f} s, {stats.samples_per_sec:.0f} samples/s)")


def params_path(save, rank):
    """Where this worker saves its params: ``save`` with ``{rank}`` replaced by the worker's rank.

    Without ``{rank}`` in the path only worker 0 saves (all workers hold the same params after a
    ``dist_sync`` run); with it every worker saves its own file, e.g. to check that they agree.
    Returns None when this worker saves nothing.
    """
    if not save or (rank != 0 and "{rank}" not in save):
        return None
    return save.replace("{rank}", str(rank))


def build_net(config, ctxs):
    """Model ``config.model``, initialised with ``config.init`` (or the model's default) or loaded
    from ``config.load``; returns ``(net, init spec used)``."""
    init = config.init or default_init(config.model)
    net = get_model(config.model, init=init, ctx=ctxs)
    if config.load:
        load_params(net, config.load, ctx=ctxs)
        init = f"loaded from {config.load}"
    return net, init


def run(config, log=print):
    """Train ``config.model`` on ``config.dataset`` as the config says; return a :class:`Result`.

    Prints (through ``log``) the config, the model and one line per epoch; with ``config.out`` writes
    config.json, history.csv/.json, the params and the plots there, and with ``config.save`` the
    params to that file.

    Scaling out: ``config.ctx`` may list several devices (data-parallel, gradients summed by the
    ``device``/``local`` kvstore); with ``kvstore='dist_sync'``/``'dist_async'`` this process is one
    worker of a job started by ``python -m mxdl.distributed.launch``: it trains on its shard of the training data
    (every num_workers-th sample from its rank), one update uses ``batch_size`` samples on every
    worker (global batch ``batch_size * num_workers``, ``lr`` applies to its mean gradient), only
    worker 0 writes ``config.out``, and ``config.save`` is written by worker 0, or by every worker
    when it contains ``{rank}`` (see :func:`params_path`).  With ``dist='horovod'`` this process is
    one rank of a job started by ``horovodrun``: the same, except that the ranks average their
    gradients by allreduce and only rank 0 prints.  User errors raise
    :class:`~mxdl.errors.MxdlError`.
    """
    config = dataclasses.replace(config).validate()
    started = time.time()
    ctxs = parse_ctx(config.ctx)  # a GPU that is not there is an error here, before any work
    # First: a dist kvstore connects to the scheduler; Horovod's ranks find each other.
    kvstore = make_kvstore(config.kvstore, dist=config.dist)
    if is_horovod(kvstore) and kvstore.rank != 0:  # rank 0 speaks for the job; errors still show
        log, config = _silent, dataclasses.replace(config, quiet=True)
    rank, num_workers = worker_rank(kvstore)
    check_outputs(config, rank)  # before any work: a run is never lost to a bad --out or --save
    seed_everything(config.seed)
    dataset, config = load_data(config, log)
    timings = {"loading the data (s)": time.time() - started}
    checkpoint = resume_from(config, dataset) if config.resume else None
    net, init = build_net(config, ctxs)
    # The effective config: what was really used, so that config.json reproduces this run.
    config = dataclasses.replace(config, dataset=dataset.name,
                                 init=config.init or default_init(config.model))
    if not config.quiet:
        describe_run(config, dataset, ctxs, kvstore, net, init, log)
    per_worker = len(dataset.train[1]) // num_workers
    updates_per_epoch = math.ceil(per_worker / min(config.batch_size, per_worker))
    trainer = make_trainer(net, config, updates_per_epoch=updates_per_epoch, kvstore=kvstore, ctx=ctxs)
    history = History()
    start_epoch = 0
    if checkpoint is not None:
        start_epoch = continue_from(checkpoint, net, trainer, history, config, updates_per_epoch, log)
    board = _tensorboard(config, rank)
    try:
        fit(net, gluon.loss.SoftmaxCrossEntropyLoss(), dataset.train, dataset.test,
            settings(config, start_epoch, _interval_handler(config, board, log, updates_per_epoch)),
            ctx=ctxs, kvstore=kvstore, trainer=trainer,
            on_epoch=_epoch_handler(config, net, trainer, history, dataset, kvstore, board, log,
                                    write_checkpoints=config.out and rank == 0))
    finally:
        if board is not None:
            board.close()
    timings["training (s)"] = sum(stats.seconds for stats in history if stats.epoch > start_epoch)
    timings["total, before writing the outputs (s)"] = time.time() - started
    result = Result(net, history, dataset, config, {}, rank, num_workers, ctxs=ctxs, timings=timings)
    write_results(result, log)
    return result


def load_data(config, log):
    """``(dataset, config)``: the config's data (cut to one batch each for ``--dry-run``)."""
    check_data_dir(config.data_dir)
    dataset, note = load_dataset_or_fallback(config.dataset, config.data_dir, config.limit,
                                             download=config.download, progress=not config.quiet)
    if note:
        log(note)
    if config.dry_run:
        dataset, config = dry_run(dataset, config)
        log(f"dry run: 1 batch of {len(dataset.train[1])} training and {len(dataset.test[1])} test "
            "samples, nothing written")
    return dataset, config


def describe_run(config, dataset, ctxs, kvstore, net, init, log):
    """The start of a run's log: the whole config, the data, the devices and the model."""
    log("config: " + " ".join(f"{name}={value}" for name, value in config.to_dict().items()))
    log(f"data: {dataset}")
    log(f"devices: {describe_ctx(ctxs)}; "
        + (f"dist: {config.dist}" if config.dist else f"kvstore: {config.kvstore}"))
    scale_out = describe_scale_out(kvstore, config.batch_size, config.lr, len(dataset.train[1]))
    if scale_out:
        log(scale_out)
    log(f"model {config.model} ({describe_model(config.model)}), init {init}, "
        f"{num_params(net):,} parameters:\n{net}")


def continue_from(checkpoint, net, trainer, history, config, updates_per_epoch, log):
    """Put a run back as the checkpoint left it (weights, optimiser, generators, history); return
    the number of epochs it had trained."""
    checkpoint.restore(net, trainer)
    apply_schedule(trainer, config, updates_per_epoch)
    ckpt.restore_rng(checkpoint.rng, checkpoint.epoch)
    history.extend(EpochStats(**stats) for stats in checkpoint.history)
    log(f"resumed from {checkpoint.path}: {checkpoint.epoch} epoch(s) done, training epochs "
        f"{checkpoint.epoch + 1} to {config.num_epochs}")
    return checkpoint.epoch


def write_results(result, log):
    """Save, export and write ``--out`` as the config says (worker 0 only, except ``{rank}`` saves)."""
    config, net = result.config, result.net
    save = params_path(config.save, result.rank)
    if save:
        save_params(net, save)
        result.outputs["params"] = save
    if config.export and result.rank == 0:
        from ..export import export_net
        input_shape = (1,) + result.dataset.train[0].shape[1:]
        result.outputs["export_symbol"], result.outputs["export_params"] = export_net(
            net, config.export, input_shape)
    if config.out and result.rank == 0:  # the other workers hold the same net: one writer is enough
        result.outputs.update(write_outputs(result, config.out))
    if config.tensorboard and result.rank == 0:
        result.outputs["tensorboard"] = config.tensorboard
    if not config.quiet:
        for name, path in result.outputs.items():
            log(f"wrote {name}: {path}")


def check_outputs(config, rank):
    """Create ``config.out`` and prove it and ``config.save``'s folder writable (one line if not)."""
    save = params_path(config.save, rank)
    if save:
        check_output_file(save, "--save")
    if config.out and rank == 0:
        check_output_dir(config.out, "--out")


def _silent(_line):
    """The log of a Horovod rank other than 0."""


def dry_run(dataset, config):
    """One batch of each split and one epoch, with every output switched off (``--dry-run``)."""
    n = config.batch_size
    small = dataclasses.replace(dataset, train=tuple(a[:n] for a in dataset.train),
                                test=tuple(a[:n] for a in dataset.test))
    return small, dataclasses.replace(config, num_epochs=1, out=None, save=None, export=None,
                                      tensorboard=None, resume=None)


def data_shape(dataset):
    """What a checkpoint must agree with: one input's shape and the number of classes."""
    return {"input_shape": list(dataset.train[0].shape[1:]), "num_classes": len(dataset.classes)}


# Config fields a resumed run must share with its checkpoint: the net, and the optimiser's state.
RESUME_FIELDS = ("model", "optimizer", "momentum", "wd", "beta1", "beta2", "epsilon", "gamma1",
                 "clip_gradient")


def resume_from(config, dataset):
    """The checkpoint ``config.resume`` names, checked against this run (one clear error if it does not fit)."""
    if config.load:
        raise MxdlError("--resume and --load do not go together: a checkpoint holds its own weights")
    checkpoint = ckpt.load_checkpoint(config.resume)
    ckpt.check_compatible(checkpoint, config.to_dict(), data_shape(dataset), fields=RESUME_FIELDS)
    if checkpoint.epoch >= config.num_epochs:
        raise MxdlError(f"checkpoint {checkpoint.path} has already trained {checkpoint.epoch} epoch(s): "
                        f"give --epochs N with N > {checkpoint.epoch} (the total) to train more")
    return checkpoint


def _tensorboard(config, rank):
    if not config.tensorboard or rank != 0:
        return None
    from ..tensorboard_log import TensorBoardLog
    board = TensorBoardLog(config.tensorboard)
    board.text("config", "  \n".join(f"{k} = {v}" for k, v in config.to_dict().items()))
    return board


def _epoch_handler(config, net, trainer, history, dataset, kvstore, board, log, write_checkpoints):
    """``on_epoch(stats)``: the epoch line, the history, TensorBoard, and the checkpoint when due."""
    path = os.path.join(config.out, ckpt.CHECKPOINT_NAME) if write_checkpoints else None
    if path and is_distributed(kvstore):
        log("no checkpoint with a dist kvstore: the optimiser's state lives on the servers")
        path = None

    def on_epoch(stats):
        history.append(stats)
        log(epoch_line(stats))
        if board is not None:
            board.epoch(stats)
        if path and (stats.epoch % config.checkpoint_every == 0 or stats.epoch == config.num_epochs):
            ckpt.save_checkpoint(path, net, trainer, epoch=stats.epoch, history=history,
                                 config=config.to_dict(), data=data_shape(dataset),
                                 rng=ckpt.capture_rng(seed=config.seed))
    return on_epoch


def _interval_handler(config, board, log, updates_per_epoch):
    """``on_interval(epoch, seen, n, cost)`` every ``--log-interval`` batches: a line (when there is
    no progress bar) and TensorBoard's batch scalars."""
    if not config.log_interval:
        return None
    show = not progress_bar(config)

    def on_interval(epoch, seen, n, cost):
        batches = -(-seen // config.batch_size)
        if show:
            running = f"cost {cost:.4f}" if math.isfinite(cost) else "cost at the epoch's end"
            log(f"epoch {epoch} [{seen}/{n} ({100 * seen / n:.0f}%)] {running}")
        if board is not None:
            board.batch((epoch - 1) * updates_per_epoch + batches, cost)
    return on_interval


def progress_bar(config):
    """Progress bars only on a terminal: in a log or a pipe they are noise (``--log-interval`` is for those)."""
    return not config.quiet and sys.stderr.isatty()


def settings(config, start_epoch=0, on_interval=None):
    """fit's :class:`~mxdl.train.Settings` for ``config``."""
    return Settings(num_epochs=config.num_epochs, batch_size=config.batch_size, lr=config.lr,
                    momentum=config.momentum, wd=config.wd, seed=config.seed, shuffle=config.shuffle,
                    hybridize=config.hybridize, progress=progress_bar(config),
                    start_epoch=start_epoch, log_interval=config.log_interval, on_interval=on_interval)


def load_trained(model, params, ctx=None):
    """Model ``model`` with the parameters saved in file ``params`` (by ``--save`` or ``--out``), on
    the Contexts ``ctx`` (default: the default device)."""
    ctxs = parse_ctx() if ctx is None else ctx
    net = get_model(model, ctx=ctxs)
    load_params(net, params, ctx=ctxs)
    return net


def classify(net, X, ctx=None):
    """Predicted labels and their probabilities for inputs ``X`` (N, 1, 28, 28): ``(labels, probs)``.

    The probability is the softmax of the net's scores y_hat: the model's confidence in its label.
    """
    y_hat = predict(net, X, ctx=ctx)  # (N, classes) scores
    y_hat = y_hat - y_hat.max(axis=1, keepdims=True)  # softmax without overflow
    probabilities = np.exp(y_hat)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    labels = probabilities.argmax(axis=1)
    return labels, probabilities[np.arange(len(labels)), labels]
