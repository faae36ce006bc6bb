"""Plots of the batch-size study: cost and test accuracy per epoch and per second; the lr x batch heatmap.

The talk's claims, drawn: per *epoch*, gradient descent (one update per epoch) is the slowest to
lower the cost and SGD (N updates per epoch) the fastest; per *second* the picture changes, because
an SGD epoch costs N small steps while a gradient-descent epoch is one big vectorised one, and
mini-batch SGD is the practical middle.  The heatmap shows the final cost of every learning rate x
batch size pair, with the rates that diverge (NaN/inf cost) and those that crawl.

Each function takes data and an optional ``ax`` and returns the figure (a
:class:`matplotlib.figure.Figure`: no pyplot, no current figure, nothing shown), so it renders with
Agg in scripts and inline in notebooks.
"""
import math

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from . import batch_size_label, new_axes as _axes

_METRICS = {"cost": "training cost (mean loss)", "test_acc": "test accuracy"}
_X_AXES = {"epoch": "epoch", "seconds": "training time (seconds, log scale)"}
_MARKERS = ("o", "s", "^", "D", "v", "P")
_LINESTYLES = ("-", "--", "-.", ":")


def plot_runs(runs, metric="cost", x="epoch", ax=None):
    """One curve per run (:class:`mxdl.demos.batch_size_study.Run`): ``metric`` ('cost' or 'test_acc') against ``x``.

    ``x='epoch'`` starts at epoch 0 (the shared initial weights); ``x='seconds'`` is the cumulative
    training time on a log axis (so epoch 0, at 0 seconds, is drawn as a dashed line instead).
    """
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {', '.join(_METRICS)}, got {metric!r}")
    if x not in _X_AXES:
        raise ValueError(f"x must be one of {', '.join(_X_AXES)}, got {x!r}")
    fig, ax = _axes(ax, (5.5, 3.8))
    start = None
    for i, run in enumerate(runs):
        values = run.costs if metric == "cost" else run.test_accs
        label = f"{run.label}, lr {run.lr:g}" + (" (diverged)" if run.diverged else "")
        # Curves that coincide (SGD and mini-batch SGD per epoch) must stay visible: each run gets
        # its own marker and line style, and earlier runs are drawn wider and hollow underneath.
        style = dict(marker=_MARKERS[i % len(_MARKERS)], linestyle=_LINESTYLES[i % len(_LINESTYLES)],
                     linewidth=max(3.2 - 0.7 * i, 1.0), markersize=max(8 - 1.8 * i, 3),
                     markerfacecolor="none" if i < len(runs) - 1 else None, zorder=2 + i, label=label)
        if x == "epoch":
            ax.plot(range(len(values)), values, **style)
        else:
            seconds = run.seconds[1:len(values)]
            ax.plot(seconds, values[1:len(seconds) + 1], **style)
        if values and start is None and math.isfinite(values[0]):
            start = values[0]
    if x == "seconds":
        ax.set_xscale("log")
        if start is not None:
            ax.axhline(start, color="grey", linestyle="--", linewidth=1, label="initial weights")
    else:
        ax.xaxis.get_major_locator().set_params(integer=True)
    per = "per epoch" if x == "epoch" else "against training time"
    ax.set(xlabel=_X_AXES[x], ylabel=_METRICS[metric], title=f"{_METRICS[metric]} {per}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return fig


def plot_study(study):
    """Four panels: cost and test accuracy, per epoch and per second, of the study's picked runs."""
    fig = Figure(figsize=(11, 7.5), layout="constrained")
    axes = fig.subplots(2, 2)
    for row, metric in enumerate(("cost", "test_acc")):
        for col, x in enumerate(("epoch", "seconds")):
            plot_runs(study.picked, metric=metric, x=x, ax=axes[row, col])
            if row == 1:  # the same runs as above: one legend per column is enough
                axes[row, col].get_legend().remove()
    lrs = "fixed lr" if len(study.lrs) == 1 else "lr picked per batch size from " + ", ".join(
        f"{lr:g}" for lr in study.lrs)
    fig.suptitle(f"GD vs SGD vs mini-batch SGD: {study.num_train} training samples, "
                 f"{study.num_epochs} epochs, {lrs}")
    return fig


def plot_lr_batch_heatmap(costs, lrs, batch_sizes, num_train=None, ax=None, picked=None):
    """Final cost of every learning rate (rows) x batch size (columns); NaN cells are marked 'diverged'.

    ``costs`` is an array of shape (len(lrs), len(batch_sizes)), e.g. :meth:`mxdl.demos.batch_size_study.Study.cost_grid`;
    ``batch_sizes`` are numbers (None or ``num_train`` for gradient descent).  Colours are on a log
    scale, so a rate that crawls (cost still near its start) stands out as well as the best one.
    ``picked`` gives, per column, the row of the learning rate chosen for that batch size (framed and
    bold); by default the row with the lowest cost in each column.
    """
    costs = np.asarray(costs, dtype=float)
    if costs.shape != (len(lrs), len(batch_sizes)):
        raise ValueError(f"costs has shape {costs.shape}, expected (len(lrs), len(batch_sizes)) = "
                         f"({len(lrs)}, {len(batch_sizes)})")
    fig, ax = _axes(ax, (1.3 * len(batch_sizes) + 2.5, 0.6 * len(lrs) + 2))
    finite = costs[np.isfinite(costs) & (costs > 0)]
    spread = finite.size and finite.min() < finite.max()
    norm = LogNorm(vmin=finite.min(), vmax=finite.max()) if spread else None
    shown = np.ma.masked_invalid(costs)
    image = ax.imshow(shown, cmap="viridis_r", norm=norm, aspect="auto")
    ax.set_facecolor("lightgrey")  # masked (diverged) cells
    if picked is None:
        picked = [int(np.nanargmin(column)) if np.isfinite(column).any() else None for column in costs.T]
    for i in range(len(lrs)):
        for j in range(len(batch_sizes)):
            value = costs[i, j]
            if not math.isfinite(value):
                ax.text(j, i, "diverged", ha="center", va="center", fontsize=8, color="darkred",
                        fontweight="bold")
                continue
            dark = norm is not None and norm(value) > 0.5  # high costs are dark in viridis_r
            chosen = picked[j] == i
            ax.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize=8,
                    color="white" if dark else "black", fontweight="bold" if chosen else "normal")
            if chosen:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="tab:red",
                                       linewidth=2))
    ax.set_xticks(range(len(batch_sizes)))
    ax.set_xticklabels([batch_size_label(b, num_train) for b in batch_sizes])
    ax.set_yticks(range(len(lrs)))
    ax.set_yticklabels([f"{lr:g}" for lr in lrs])
    ax.set(xlabel="batch size (samples per update)", ylabel="learning rate",
           title="final training cost per learning rate x batch size")
    bar = fig.colorbar(image, ax=ax, label="final cost (log scale)")
    if spread:  # a log colour bar over less than a decade gets one tick or none: give it five
        ticks = np.geomspace(finite.min(), finite.max(), 5)
        bar.set_ticks(ticks)
        bar.set_ticklabels([f"{t:.3g}" for t in ticks])
        bar.minorticks_off()
    ax.set_title(ax.get_title() + "\n(framed: the learning rate picked for each batch size)",
                 fontsize="medium")
    return fig
