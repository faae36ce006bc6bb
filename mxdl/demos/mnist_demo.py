"""The MNIST demo as one library call: load the data, build the net, fit it, write what happened.

The talk ends with multiclass logistic regression on MNIST (``Dense(10)``, ``SoftmaxCrossEntropyLoss``,
SGD with lr 0.1, batches of 64, 4 epochs) printing one line per epoch, then ten test digits with the
model's predictions.  :func:`run` does exactly that for any :class:`~mxdl.config.Config`::

    from mxdl.config import Config
    from mxdl.demos.mnist_demo import run, write_outputs
    result = run(Config(dataset="mnist-t10k", model="mlp"))
    result.history.last.test_acc

and :func:`load_trained` + :func:`classify` are the "predict" half: a saved net labels new images.
"""
import dataclasses
import os

import numpy as np
from mxnet import gluon

from ..config import Config
from ..context import describe_ctx, parse_ctx
from ..data import check_data_dir, load_dataset_or_fallback
from ..distributed.parallel import describe_scale_out, is_horovod, make_kvstore, worker_rank
from ..models import default_init, describe_model, get_model
from ..plots import save_figure
from ..plots import training as plots
from ..train import Settings, fit, predict
from ..utils import load_params, num_params, save_params, seed_everything

NUM_SAMPLES = 20  # test images in samples.png (the demo showed ten)


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
    ctxs = parse_ctx(config.ctx)  # a GPU that is not there is an error here, before any work
    # First: a dist kvstore connects to the scheduler; Horovod's ranks find each other.
    kvstore = make_kvstore(config.kvstore, dist=config.dist)
    if is_horovod(kvstore) and kvstore.rank != 0:  # rank 0 speaks for the job; errors still show
        log, config = _silent, dataclasses.replace(config, quiet=True)
    seed_everything(config.seed)
    check_data_dir(config.data_dir)
    dataset, note = load_dataset_or_fallback(config.dataset, config.data_dir, config.limit,
                                             download=config.download, progress=not config.quiet)
    if note:
        log(note)
    net, init = build_net(config, ctxs)
    # The effective config: what was really used, so that config.json reproduces this run.
    config = dataclasses.replace(config, dataset=dataset.name,
                                 init=config.init or default_init(config.model))
    if not config.quiet:
        log("config: " + " ".join(f"{name}={value}" for name, value in config.to_dict().items()))
        log(f"data: {dataset}")
        log(f"devices: {describe_ctx(ctxs)}; "
            + (f"dist: {config.dist}" if config.dist else f"kvstore: {config.kvstore}"))
        scale_out = describe_scale_out(kvstore, config.batch_size, config.lr, len(dataset.train[1]))
        if scale_out:
            log(scale_out)
        log(f"model {config.model} ({describe_model(config.model)}), init {init}, "
            f"{num_params(net):,} parameters:\n{net}")
    history = fit(net, gluon.loss.SoftmaxCrossEntropyLoss(), dataset.train, dataset.test,
                  settings(config), ctx=ctxs, kvstore=kvstore,
                  on_epoch=lambda stats: log(epoch_line(stats)))
    result = Result(net, history, dataset, config, {}, *worker_rank(kvstore), ctxs=ctxs)
    save = params_path(config.save, result.rank)
    if save:
        save_params(net, save)
        result.outputs["params"] = save
    if config.out and result.rank == 0:  # the other workers hold the same net: one writer is enough
        result.outputs.update(write_outputs(result, config.out))
    if not config.quiet:
        for name, path in result.outputs.items():
            log(f"wrote {name}: {path}")
    return result


def _silent(_line):
    """The log of a Horovod rank other than 0."""


def settings(config):
    """fit's :class:`~mxdl.train.Settings` for ``config``."""
    return Settings(num_epochs=config.num_epochs, batch_size=config.batch_size, lr=config.lr,
                    momentum=config.momentum, wd=config.wd, seed=config.seed, shuffle=config.shuffle,
                    hybridize=config.hybridize, progress=not config.quiet)


def write_outputs(result, out):
    """Write config.json, history.csv/.json, ``<model>.params`` and the PNG plots into ``out``."""
    config, net, history, dataset = result.config, result.net, result.history, result.dataset
    os.makedirs(out, exist_ok=True)
    paths = {name: os.path.join(out, filename) for name, filename in (
        ("config", "config.json"), ("history_csv", "history.csv"), ("history_json", "history.json"),
        ("out_params", f"{config.model}.params"), ("accuracy_plot", "accuracy.png"),
        ("cost_plot", "cost.png"), ("samples_plot", "samples.png"),
        ("confusion_plot", "confusion.png"))}
    config.to_json(paths["config"])
    history.to_csv(paths["history_csv"])
    history.to_json(paths["history_json"])
    save_params(net, paths["out_params"])
    X_test, y_test = dataset.test
    y_pred = predict(net, X_test, ctx=result.ctxs).argmax(axis=1)
    figures = {
        "accuracy_plot": plots.plot_accuracy(history),
        "cost_plot": plots.plot_cost(history),
        "samples_plot": plots.plot_samples(X_test[:NUM_SAMPLES], y_test[:NUM_SAMPLES],
                                           y_pred[:NUM_SAMPLES], dataset.classes),
        "confusion_plot": plots.plot_confusion(y_test, y_pred, dataset.classes),
    }
    for name, fig in figures.items():
        save_figure(fig, paths[name])
    return paths


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
