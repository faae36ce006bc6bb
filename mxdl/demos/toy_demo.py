"""The first half of the talk, end to end: circles and diamonds, the model y = w·x, the cost and its
slope, and gradient descent vs SGD vs mini-batch SGD learning w = 2.

:func:`run` trains the same classifier from ``w = 0`` three times with :func:`mxdl.train.fit`,
changing only ``batch_size`` (None: gradient descent, 1: SGD, b: mini-batch SGD), and returns numbers;
:func:`format_table` prints them and :func:`write_outputs` draws them.  ``mxdl-toy``
(:mod:`mxdl.commands.toy`) is the command line for it::

    from mxdl.demos.toy_demo import ToyConfig, run, write_outputs
    result = run(ToyConfig(lr=0.02), log=print)
    write_outputs(result, "runs/toy")
"""
import dataclasses
import os

import numpy as np
from mxnet import gluon

from ..config import DEFAULT_DEVICE, check_float32, check_int, check_number, check_seed
from ..context import describe_ctx, parse_ctx
from ..errors import MxdlError
from ..landscape import cost_curve, tangent
from ..models.line import line_classifier, score_to_label
from ..toy import make_toy
from ..plots import save_figure
from ..train import Settings, evaluate, fit
from ..utils import seed_everything


# The toy is a picture of a few hundred points; a bound keeps a typo (--n 99999999999, 373 GiB of
# arrays) from ending in an out-of-memory kill.  Ten million points already take ~1 GB with copies.
MAX_POINTS = 10_000_000


@dataclasses.dataclass
class ToyConfig:
    """Settings of the toy demo; the defaults are the canonical run (all three methods learn w ~ 2)."""

    n: int = 300  # number of points (80% train, 20% test)
    m: float = 2.0  # the true slope of the line between circles and diamonds
    lr: float = 0.05
    num_epochs: int = 20
    batch_size: int = 16  # the mini-batch size (gradient descent uses all points, SGD one)
    seed: int = 0
    ctx: str = DEFAULT_DEVICE
    test_fraction: float = 0.2

    def validate(self):
        """Raise :class:`~mxdl.errors.MxdlError` naming the first field with a value that cannot work."""
        check_int("n", self.n, 1, MAX_POINTS)
        check_float32("m", self.m)
        check_float32("lr", self.lr, above=0)
        check_int("num_epochs", self.num_epochs, 1)
        check_int("batch_size", self.batch_size, 1)
        check_seed("seed", self.seed)
        check_number("test_fraction", self.test_fraction, above=0, below=1)
        return self


@dataclasses.dataclass
class MethodRun:
    """One training run: a method, its batch size and what it learned."""

    method: str
    batch_size: int
    updates_per_epoch: int
    w: float  # the learned weight
    train_acc: float  # after training
    test_acc: float
    seconds: float  # training time, all epochs
    history: object  # mxdl.train.History
    weights: list  # w after each epoch


@dataclasses.dataclass
class ToyResult:
    """Everything the toy demo computed: the data and one :class:`MethodRun` per method."""

    config: ToyConfig
    data: object  # mxdl.toy.ToyData
    runs: list


def methods(config, n_train):
    """``(name, batch_size)`` of the three methods; ``batch_size`` None means all samples."""
    if config.batch_size > n_train:
        raise MxdlError(f"batch_size must be an integer from 1 to the number of training points "
                        f"({n_train}), got {config.batch_size}: use a smaller one, or more points")
    return [("gradient descent", None), ("SGD", 1), ("mini-batch SGD", config.batch_size)]


def train_one(data, batch_size, config, ctxs):
    """Train a fresh classifier (w = 0) on ``data`` with ``fit``; return (net, history, weights per epoch)."""
    seed_everything(config.seed)
    net = line_classifier(ctx=ctxs)
    weights = []
    settings = Settings(num_epochs=config.num_epochs, batch_size=batch_size, lr=config.lr,
                        seed=config.seed, to_label=score_to_label)
    history = fit(net, gluon.loss.SigmoidBinaryCrossEntropyLoss(), data.train, data.test, settings,
                  ctx=ctxs, on_epoch=lambda stats: weights.append(net.w))
    return net, history, weights


def run(config=None, log=None):
    """Run the toy story with ``config`` (default :class:`ToyConfig`); return a :class:`ToyResult`.

    ``log`` (e.g. ``print``) receives one line per method as it finishes.
    """
    config = dataclasses.replace(config or ToyConfig()).validate()
    ctxs = parse_ctx(config.ctx)  # a device that is not there fails here, before any work
    if len(ctxs) > 1:
        # One weight gains nothing from data parallelism (scripts/mnist.py is where several devices
        # pay off).
        raise MxdlError(f"the toy demo trains on one device, got {describe_ctx(ctxs)}: "
                        "give one, e.g. --ctx cpu or --ctx gpu:0")
    data = make_toy(config.n, m=config.m, test_fraction=config.test_fraction, seed=config.seed)
    n_train = len(data.X_train)
    runs = []
    for name, batch_size in methods(config, n_train):
        net, history, weights = train_one(data, batch_size, config, ctxs)
        train_acc = evaluate(net, *data.train, ctx=ctxs, to_label=score_to_label)[1]
        run = MethodRun(name, batch_size or n_train, history.last.updates, net.w, train_acc,
                        history.last.test_acc, float(sum(history.column("seconds"))), history, weights)
        runs.append(run)
        if log is not None:
            log(f"{name}: batch_size={run.batch_size}, w={run.w:.4f}, test acc={run.test_acc:.3f} "
                f"({run.seconds:.2f} s on {describe_ctx(ctxs)})")
    return ToyResult(config, data, runs)


TABLE_HEADER = ("method", "batch size", "updates/epoch", "final w", "train acc", "test acc", "seconds")


def table_rows(result):
    """The table as rows of strings, one per method (header: :data:`TABLE_HEADER`)."""
    return [(run.method, str(run.batch_size), str(run.updates_per_epoch), f"{run.w:.4f}",
             f"{run.train_acc:.3f}", f"{run.test_acc:.3f}", f"{run.seconds:.2f}")
            for run in result.runs]


def format_table(result):
    """A Markdown table: method, batch size, updates per epoch, final w, train/test accuracy, time."""
    rows = [TABLE_HEADER] + table_rows(result)
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_HEADER))]
    lines = ["| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |"
             for row in rows]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


def make_figures(result, tangent_weights=(0.5, 1.75, 2.0, 3.0)):
    """The three figures of the story, as ``{file stem: Figure}``."""
    from ..plots import toy_figures as plots  # matplotlib only when figures are wanted

    data, runs = result.data, result.runs
    by_name = {run.method: run for run in runs}
    gd = by_name["gradient descent"]
    m = result.config.m
    weights = np.linspace(m - 2.5, m + 2.5, 201)
    costs = cost_curve(*data.train, weights)
    tangents = [(w,) + tangent(*data.train, w) for w in tangent_weights]
    path = [(0.0, float(cost_curve(*data.train, [0.0])[0]))]
    path += [(w, float(cost_curve(*data.train, [w])[0])) for w in gd.weights]
    return {
        "toy_data": plots.plot_toy_data(*data.train, learned={"learned (gradient descent)": gd.w}),
        "toy_cost_vs_weight": plots.plot_cost_curve(weights, costs, tangents, path=path),
        "toy_training_cost": plots.plot_gd_vs_sgd({f"{run.method} (batch {run.batch_size})": run.history
                                                   for run in runs}),
    }


def write_outputs(result, out):
    """Draw :func:`make_figures` into directory ``out`` as PNGs (written atomically); return
    ``{file stem: path}``."""
    return {stem: save_figure(fig, os.path.join(out, stem + ".png"), dpi=110)
            for stem, fig in make_figures(result).items()}
