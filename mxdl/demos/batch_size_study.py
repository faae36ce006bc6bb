"""The batch-size study: one model trained by gradient descent, SGD and mini-batch SGD, side by side.

Lesson: batch size is the knob that turns gradient descent (one exact but slow update per epoch)
into stochastic gradient descent (N cheap, noisy updates per epoch) into mini-batch SGD (ceil(N/b)
updates per epoch, the practical middle).  The study trains the same net from the same initial
weights with each batch size for the same number of epochs and records, for every run, the cost on
the whole training set and the test accuracy after every epoch, and the training time.

The learning rate is either fixed (one ``lr`` for every batch size) or picked per batch size from a
small grid: each batch size is trained with every learning rate, and the one with the lowest final
*training* cost is kept among the runs that stayed stable -- a run whose training cost ever rose
above :data:`SPIKE` (1.5) times its lowest value so far is rejected, even if it ended low, because an
unstable rate is a gamble (the test data is never used to choose).  A grid is the fairer comparison,
because the best learning rate grows with the batch size: a rate that suits gradient descent makes
SGD's noisy steps overshoot (or diverge), and one that suits SGD makes gradient descent crawl.  Every
run of the grid is kept, so the same study also gives the learning rate x batch size heatmap.

A run whose cost becomes NaN or infinite (:class:`~mxdl.errors.DivergedError`) is recorded as
diverged, not raised.

Layout: the generic study (:class:`Run`, :class:`Study`, :func:`batch_size_study`, any net and loss)
comes first, then the demo on MNIST-style data (:class:`StudyConfig`, :func:`run`,
:func:`write_outputs`).  At about 420 lines this module is over the house's ~300: the two halves are
kept together because the demo is a thin shell over the study and the notebooks import both as
``study``; split the generic half out if it grows.
"""
import csv
import dataclasses
import io
import json
import math
import os
from typing import Optional

import numpy as np

from ..config import DEFAULT_DEVICE, check_choice, check_float32, check_int, check_seed
from ..data import DATASETS
from ..errors import DivergedError, MxdlError
from ..files import atomic_write
from ..models import list_models
from ..plots import batch_size_label, save_figure
from ..history import History
from ..train import Settings, argmax_label, evaluate, fit
from ..utils import prepare_output_dir, seed_everything

# None stands for "the whole training set": gradient descent.
DEFAULT_BATCH_SIZES = (1, 8, 64, 512, None)
# The default grid: a decade either side of the demo's lr 0.1 (on MNIST-style data SGD picks 0.01-0.1
# and gradient descent 0.1-1).
DEFAULT_LR_GRID = (0.01, 0.1, 1.0)
# A run whose training cost ever rises above SPIKE x its lowest so far is not picked (see Study.picked).
SPIKE = 1.5
# MNIST training samples used by default: enough for real curves, few enough that batch 1 (one update
# per sample) takes seconds per epoch on a laptop CPU.
DEFAULT_LIMIT = 5000

COLUMNS = ("batch_size", "algorithm", "lr", "updates_per_epoch", "seconds_per_epoch", "final_cost",
           "test_acc", "diverged")


def algorithm(batch_size, num_train):
    """The talk's name for training with ``batch_size`` samples per update out of ``num_train``."""
    if batch_size is None or batch_size >= num_train:
        return "GD"
    if batch_size == 1:
        return "SGD"
    return "mini-batch SGD"


@dataclasses.dataclass
class Run:
    """One training run of the study: one batch size, one learning rate, ``num_epochs`` epochs."""

    batch_size: int  # samples per update; the number of training samples for gradient descent
    lr: float
    num_train: int  # training samples N
    history: History = dataclasses.field(default_factory=History)  # fit's stats, one per epoch done
    costs: list = dataclasses.field(default_factory=list)  # training cost after 0, 1, 2, ... epochs
    test_accs: list = dataclasses.field(default_factory=list)  # test accuracy after 0, 1, 2, ... epochs
    diverged: Optional[str] = None  # the DivergedError's message if the cost became NaN or inf

    @property
    def algorithm(self):
        return algorithm(self.batch_size, self.num_train)

    @property
    def label(self):
        return batch_size_label(self.batch_size, self.num_train)

    @property
    def updates_per_epoch(self):
        """ceil(N / batch_size): 1 for GD, N for SGD."""
        return -(-self.num_train // self.batch_size)

    @property
    def seconds(self):
        """Training seconds after 0, 1, 2, ... epochs (cumulative; evaluation not counted)."""
        return [0.0] + list(np.cumsum(self.history.column("seconds")))

    @property
    def seconds_per_epoch(self):
        seconds = self.history.column("seconds")
        return float(np.mean(seconds)) if seconds else float("nan")

    @property
    def final_cost(self):
        """The cost (mean loss) of the final weights on the whole training set; nan if diverged."""
        return float("nan") if self.diverged else self.costs[-1]

    @property
    def final_test_acc(self):
        return float("nan") if self.diverged else self.test_accs[-1]

    def row(self):
        """The run as one row of the study's table (a dict with :data:`COLUMNS`)."""
        return dict(batch_size=self.batch_size, algorithm=self.algorithm, lr=self.lr,
                    updates_per_epoch=self.updates_per_epoch, seconds_per_epoch=self.seconds_per_epoch,
                    final_cost=self.final_cost, test_acc=self.final_test_acc,
                    diverged=self.diverged is not None)

    def curves(self):
        """Points ``{'epoch', 'seconds', 'cost', 'test_acc'}`` per epoch from 0 (the initial weights)."""
        return [dict(epoch=epoch, seconds=float(seconds), cost=cost, test_acc=acc)
                for epoch, (seconds, cost, acc) in enumerate(zip(self.seconds, self.costs, self.test_accs))]


def _check(train, batch_sizes, lrs, num_epochs):
    n = len(train[0])
    if n == 0:
        raise MxdlError("the training data is empty: give at least one sample")
    if not batch_sizes:
        raise MxdlError("give at least one batch size")
    if not lrs:
        raise MxdlError("give at least one learning rate")
    for batch_size in batch_sizes:
        if batch_size is not None and batch_size > n:
            raise MxdlError(f"batch size {batch_size} is more than the {n} training samples: drop it, "
                            "use 'full' for gradient descent, or train on more samples (--limit)")
    if not isinstance(num_epochs, (int, np.integer)) or num_epochs < 1:
        raise MxdlError(f"num_epochs must be an integer >= 1, got {num_epochs!r}")
    return n


def _train(run, make_net, loss_fn, train, test, *, num_epochs, seed, ctx, to_label):
    """Fill ``run`` epoch by epoch; a DivergedError propagates with the epochs done so far in ``run``."""
    classifies = to_label is not None
    seed_everything(seed)  # the same initial weights for every run
    net = make_net()

    def measure(stats=None):
        # The talk's cost: the mean loss over the whole training set, with the weights as they are now
        # (fit's own cost is the mean over the epoch, while the weights were still moving).
        run.costs.append(evaluate(net, *train, ctx=ctx, loss_fn=loss_fn, to_label=to_label)[0])
        if stats is not None:
            run.history.append(stats)
            # fit evaluated the test data after the epoch
            run.test_accs.append(stats.test_acc)
        elif test is not None and classifies:
            run.test_accs.append(evaluate(net, *test, ctx=ctx, to_label=to_label)[1])
        else:
            run.test_accs.append(float("nan"))

    measure()
    settings = Settings(num_epochs=num_epochs, batch_size=run.batch_size, lr=run.lr, seed=seed,
                        to_label=to_label)
    fit(net, loss_fn, train, test, settings, ctx=ctx, on_epoch=measure)
    if not math.isfinite(run.costs[-1]):  # the last batch was fine but the weights it left are not
        raise DivergedError(f"the cost became {run.costs[-1]} after epoch {len(run.history)}: the "
                            "learning rate is too high for this model and data; try a lower one")
    return net


def train_run(make_net, loss_fn, train, test=None, *, batch_size, lr, num_epochs, seed=0, ctx=None,
              to_label=argmax_label):
    """Train a fresh ``make_net()`` with one batch size and learning rate; return its :class:`Run`.

    ``batch_size`` None means gradient descent.  ``make_net()`` is called after seeding with ``seed``,
    so every run with the same seed starts from the same weights.  ``to_label`` maps the net's output
    to labels (default: argmax); None means a regression, whose test accuracy is recorded as nan (and
    whose ``history.train_acc`` means nothing).  Raises
    :class:`~mxdl.errors.DivergedError` if the cost becomes NaN or infinite.
    """
    n = _check(train, [batch_size], [lr], num_epochs)
    run = Run(batch_size=n if batch_size is None else int(batch_size), lr=float(lr), num_train=n)
    _train(run, make_net, loss_fn, train, test, num_epochs=num_epochs, seed=seed, ctx=ctx,
           to_label=to_label)
    return run


@dataclasses.dataclass
class Study:
    """Every run of a batch-size study, and the run kept for each batch size (the best learning rate)."""

    runs: list  # every Run, batch size by batch size, learning rate by learning rate
    batch_sizes: list  # the batch sizes as numbers (N for gradient descent), in the order studied
    lrs: list
    num_epochs: int
    num_train: int

    @property
    def picked(self):
        """One run per batch size: the learning rate with the lowest final training cost among the
        stable runs (:func:`rose_sharply` rejects the others).

        If every finite run of a batch size rose sharply, the lowest final cost among them is kept; a
        batch size whose every learning rate diverged keeps its first (diverged) run.
        """
        picked = []
        for batch_size in self.batch_sizes:
            runs = [run for run in self.runs if run.batch_size == batch_size]
            finite = [run for run in runs if math.isfinite(run.final_cost)]
            stable = [run for run in finite if not rose_sharply(run.costs)] or finite
            picked.append(min(stable, key=lambda run: run.final_cost) if stable else runs[0])
        return picked

    def picked_rows(self):
        """For each batch size, the row of :attr:`lrs` that was picked (for the heatmap)."""
        return [self.lrs.index(run.lr) for run in self.picked]

    @property
    def rows(self):
        """The study's table: one dict per batch size (see :data:`COLUMNS`)."""
        return [run.row() for run in self.picked]

    def cost_grid(self):
        """Final training cost per (learning rate, batch size): array lrs x batch sizes, nan = diverged."""
        grid = np.full((len(self.lrs), len(self.batch_sizes)), np.nan)
        for run in self.runs:
            grid[self.lrs.index(run.lr), self.batch_sizes.index(run.batch_size)] = run.final_cost
        return grid

    def table(self):
        """The rows as a fixed-width text table, the way the script prints it."""
        return format_table(self.rows)

    def to_dict(self):
        return dict(num_train=self.num_train, num_epochs=self.num_epochs, lrs=self.lrs,
                    batch_sizes=self.batch_sizes, rows=_jsonable(self.rows),
                    runs=[dict(batch_size=run.batch_size, lr=run.lr, diverged=run.diverged,
                               curves=_jsonable(run.curves()), history=_jsonable(run.history.to_dicts()))
                          for run in self.runs])

    def to_json(self, path):
        """Write the rows and every run's curves as JSON (atomically; NaN written as null)."""
        with atomic_write(path, "w") as f:
            f.write(json.dumps(self.to_dict(), indent=2) + "\n")

    def to_csv(self, path):
        """Write the table's rows as CSV (atomically)."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(self.rows)
        with atomic_write(path, "w") as f:
            f.write(buffer.getvalue())


def _jsonable(value):
    """NaN and inf become None, so the JSON is standard (``json.dumps`` would write bare NaN)."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def batch_size_study(make_net, loss_fn, train, test=None, *, batch_sizes=DEFAULT_BATCH_SIZES, lrs=(0.1,),
                     num_epochs, seed=0, ctx=None, to_label=argmax_label, on_run=None):
    """Train ``make_net()`` with every batch size x learning rate for ``num_epochs``; return a :class:`Study`.

    ``batch_sizes`` lists samples per update (None: the whole training set, i.e. gradient descent).
    ``lrs`` of length one is a fixed learning rate; several are a grid, and :attr:`Study.picked`
    keeps, per batch size, the stable one with the lowest final training cost.  Every run starts from the
    same initial weights (``seed``) and sees the same shuffling order.  ``to_label`` as in
    :func:`train_run` (None for a regression).  ``on_run(run)`` is called after each run (e.g. to
    print progress).  Diverged runs are recorded, not raised.
    """
    n = _check(train, list(batch_sizes), list(lrs), num_epochs)
    sizes = []
    for batch_size in batch_sizes:
        size = n if batch_size is None else int(batch_size)
        if size not in sizes:  # e.g. 512 and None when there are 512 samples: one run, not two
            sizes.append(size)
    lrs = [float(lr) for lr in lrs]
    if len(set(lrs)) != len(lrs):
        raise MxdlError(f"learning rate listed twice in {lrs}: list each once")
    runs = []
    for size in sizes:
        for lr in lrs:
            run = Run(batch_size=size, lr=lr, num_train=n)
            try:
                _train(run, make_net, loss_fn, train, test, num_epochs=num_epochs, seed=seed, ctx=ctx,
                       to_label=to_label)
            except DivergedError as err:
                run.diverged = str(err)
            runs.append(run)
            if on_run is not None:
                on_run(run)
    return Study(runs=runs, batch_sizes=sizes, lrs=lrs, num_epochs=num_epochs, num_train=n)


def format_table(rows):
    """Rows of :data:`COLUMNS` as a fixed-width text table (diverged runs say so)."""
    header = (f"{'batch_size':>10}  {'algorithm':<14}  {'lr':>7}  {'updates/epoch':>13}  "
              f"{'s/epoch':>8}  {'final cost':>10}  {'test acc':>8}")
    lines = [header, "-" * len(header)]
    for row in rows:
        if row["diverged"]:
            cost, acc = f"{'diverged':>10}", f"{'-':>8}"
        else:
            cost, acc = f"{row['final_cost']:>10.4f}", f"{row['test_acc']:>8.4f}"
        lines.append(f"{row['batch_size']:>10}  {row['algorithm']:<14}  {row['lr']:>7g}  "
                     f"{row['updates_per_epoch']:>13}  {row['seconds_per_epoch']:>8.3f}  {cost}  {acc}")
    return "\n".join(lines)


def rose_sharply(costs, factor=None):
    """Whether a run's training cost (after epoch 0, 1, 2, ...) ever rose above ``factor`` (default
    :data:`SPIKE`) times its lowest value so far: the sign of a learning rate too big to trust."""
    factor = SPIKE if factor is None else factor
    lowest = float("inf")
    for cost in costs:
        if cost > factor * lowest:
            return True
        lowest = min(lowest, cost)
    return False


def verdict(costs, crawl_fraction=0.5):
    """How a run went, from its training cost after epoch 0, 1, 2, ... (e.g. :attr:`Run.costs`).

    ``'diverged'``: the cost became NaN or inf.  ``'blows up'``: it ended above where it started (on
    its way to inf).  ``'crawls'``: it went down every epoch but is still above ``crawl_fraction`` of
    its start (too small a learning rate).  ``'bounces'``: also still above that, but not steadily
    going down (steps too big or too noisy).  ``'learns'``: it got below that.
    """
    start, final = costs[0], costs[-1]
    if not all(math.isfinite(cost) for cost in costs):
        return "diverged"
    if final > start:
        return "blows up"
    if final > crawl_fraction * start:
        steady = all(later <= earlier for earlier, later in zip(costs, costs[1:]))
        return "crawls" if steady else "bounces"
    return "learns"


@dataclasses.dataclass
class StudyConfig:
    """The batch-size study on MNIST-style data: which net, which data, which batch sizes and rates."""

    model: str = "logreg"  # a model of mxdl.models
    dataset: str = "mnist"  # mnist (falls back to the shipped mnist-t10k), fashion-mnist or mnist-t10k
    data_dir: Optional[str] = None
    download: bool = True
    batch_sizes: tuple = DEFAULT_BATCH_SIZES  # samples per update; None: the whole training set (GD)
    lrs: tuple = DEFAULT_LR_GRID  # one: a fixed learning rate; several: a grid, picked per batch size
    num_epochs: int = 4  # per run, the same for every batch size
    limit: Optional[int] = DEFAULT_LIMIT  # training samples used (None: all), so that SGD stays affordable
    seed: int = 1  # the same initial weights and shuffling for every run
    ctx: str = DEFAULT_DEVICE

    def validate(self):
        """Raise :class:`~mxdl.errors.MxdlError` naming the first field with a value that cannot work."""
        check_choice("model", self.model, tuple(list_models()))
        check_choice("dataset", self.dataset, DATASETS)
        if not self.batch_sizes:
            raise MxdlError("give at least one batch size")
        for batch_size in self.batch_sizes:
            if batch_size is not None:
                check_int("batch_sizes", batch_size, 1)
        if not self.lrs:
            raise MxdlError("give at least one learning rate")
        for lr in self.lrs:
            check_float32("lrs", lr, above=0)
        check_int("num_epochs", self.num_epochs, 1)
        if self.limit is not None:
            check_int("limit", self.limit, 1)
        check_seed("seed", self.seed)
        return self


@dataclasses.dataclass
class StudyResult:
    """What :func:`run` produced: the :class:`Study`, the data it used and its config."""

    study: Study
    dataset: object  # mxdl.data.Dataset
    config: StudyConfig


def run(config=None, log=print, warn=None):
    """The batch-size study of ``config`` (default :class:`StudyConfig`); returns a :class:`StudyResult`.

    ``log`` (e.g. ``print``, or None for silence) hears where the data came from and one line per
    run; ``warn`` (default: ``log``) hears why MNIST fell back to mnist-t10k, if it did.
    """
    # Imported here: the generic study above needs neither the data files nor the model registry.
    from mxnet import gluon

    from ..context import parse_ctx
    from ..data import check_data_dir, load_dataset_or_fallback
    from ..models import get_model

    config = dataclasses.replace(config or StudyConfig()).validate()
    log = log or (lambda line: None)
    warn = warn or log
    ctxs = parse_ctx(config.ctx)
    check_data_dir(config.data_dir)
    data, note = load_dataset_or_fallback(config.dataset, config.data_dir, config.limit,
                                          download=config.download, progress=False)
    if note:
        warn(note)
    lrs = list(config.lrs)
    log(f"data: {data}")
    log(f"model: {config.model}; epochs per run: {config.num_epochs}; learning rate "
        + (f"fixed at {lrs[0]:g}" if len(lrs) == 1 else
           f"picked per batch size from {', '.join(f'{lr:g}' for lr in lrs)} (lowest final training cost "
           f"among the runs whose cost never rose above {SPIKE:g}x its lowest so far)"))

    def report(run):
        result = ("diverged" if run.diverged else
                  f"final cost {run.final_cost:.4f}, test acc {run.final_test_acc:.4f}")
        log(f"batch_size {run.batch_size:>6}, updates/epoch {run.updates_per_epoch:>6}, lr {run.lr:<5g}: "
            f"{result}, {run.seconds_per_epoch:.3f} s/epoch")

    study = batch_size_study(lambda: get_model(config.model, ctx=ctxs), gluon.loss.SoftmaxCrossEntropyLoss(),
                             data.train, data.test, batch_sizes=config.batch_sizes, lrs=lrs,
                             num_epochs=config.num_epochs, seed=config.seed, ctx=ctxs, on_run=report)
    return StudyResult(study, data, config)


def write_outputs(result, out):
    """Write the study into directory ``out``: rows (CSV), rows and curves (JSON), plots (PNG).

    Every file is written atomically.  Returns ``{name: path}``: ``rows_csv``, ``study_json``,
    ``curves_plot`` and, when several learning rates were tried, ``heatmap_plot``.
    """
    from ..plots import study as plots  # matplotlib only when plots are wanted

    study = result.study
    prepare_output_dir(out, "--out")
    paths = {"rows_csv": os.path.join(out, "batch_sizes.csv"),
             "study_json": os.path.join(out, "batch_sizes.json"),
             "curves_plot": os.path.join(out, "batch_sizes.png")}
    study.to_csv(paths["rows_csv"])
    study.to_json(paths["study_json"])
    figures = {"curves_plot": plots.plot_study(study)}
    if len(study.lrs) > 1:
        paths["heatmap_plot"] = os.path.join(out, "lr_batch_heatmap.png")
        figures["heatmap_plot"] = plots.plot_lr_batch_heatmap(study.cost_grid(), study.lrs,
                                                              study.batch_sizes, study.num_train,
                                                              picked=study.picked_rows())
    for name, fig in figures.items():
        save_figure(fig, paths[name])
    return paths
