"""Plots for the slides that had no code before: model families, SGD bouncing around, the mini-batch
arithmetic, overfitting, backpropagation's check and linear vs logistic regression.

Each function takes data (what the matching ``mxdl`` module returns) and an optional ``ax``, and
returns the figure; figures are :class:`matplotlib.figure.Figure` objects (no pyplot).
"""
import numpy as np
from matplotlib.figure import Figure

from ..toy import CIRCLE, DIAMOND
from .toy_figures import plot_toy_data
from . import new_axes as _axes

_COLORS = ["tab:blue", "tab:red", "tab:green", "tab:purple", "tab:orange"]


def _points(ax, X, y):
    X, y = np.asarray(X).reshape(-1, 2), np.asarray(y).reshape(-1)
    for cls, marker, color, name in ((CIRCLE, "o", "tab:blue", "circle"),
                                     (DIAMOND, "D", "tab:orange", "diamond")):
        pts = X[y == cls]
        ax.scatter(pts[:, 0], pts[:, 1], marker=marker, s=18, facecolors="none", edgecolors=color,
                   linewidths=1, label=name)


def plot_families(X, y, fits, ax=None):
    """The points and the best member of each model family (``fits``: name -> :class:`FamilyFit`),
    with the training points each gets wrong crossed out in its colour."""
    from ..families import FAMILIES

    fig, ax = _axes(ax, (6.5, 4.5))
    _points(ax, X, y)
    X = np.asarray(X).reshape(-1, 2)
    xs = np.linspace(0, X[:, 0].max(), 200)
    for (name, result), color in zip(fits.items(), _COLORS[1:]):
        ax.plot(xs, result.w * FAMILIES[name](xs), color=color, linewidth=2,
                label=f"best {name}: w = {result.w:.3f}, train acc {result.train_acc:.2f}")
        if len(result.wrong_train):
            ax.scatter(result.wrong_train[:, 0], result.wrong_train[:, 1], marker="x", s=40,
                       color=color, label=f"wrong for {name} ({len(result.wrong_train)})")
    pad = 0.05 * np.ptp(X[:, 1])
    ax.set_ylim(X[:, 1].min() - pad, X[:, 1].max() + pad)
    ax.set(xlabel="x", ylabel="y", title="two model families, each at its best, on the same data")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    return fig


def plot_weight_paths(paths, num_epochs, w_best=None, ax=None):
    """``w`` after every update for several methods (``paths``: name -> list from
    :func:`mxdl.scratch.weight_path`), against epochs, so all share one x axis."""
    fig, ax = _axes(ax, (7, 4.5))
    # Thickest first, so that the thin, many-update lines stay visible on top.
    for i, ((name, path), color) in enumerate(zip(paths.items(), _COLORS)):
        epochs = np.arange(len(path)) * num_epochs / (len(path) - 1)
        ax.plot(epochs, path, color=color, linewidth=[2.5, 0.8, 1.4, 1, 1][i % 5],
                marker="o" if len(path) <= 50 else None, markersize=3, zorder=2 + i,
                label=f"{name}: {len(path) - 1} updates")
    if w_best is not None:
        ax.axhline(w_best, color="black", linestyle=":", linewidth=1, label=f"the minimum, w = {w_best:g}")
    ax.set(xlabel="epoch", ylabel="weight w", title="w after every update: SGD bounces around the minimum")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    return fig


def plot_updates_per_epoch(num_samples=100, batch_sizes=(1, 2, 5, 10, 20, 50, 100), ax=None):
    """Updates per epoch against the batch size, with the slide's example (100 samples, batch 5) marked."""
    from ..minibatch import SLIDE_EXAMPLE, updates_per_epoch

    fig, ax = _axes(ax, (5.5, 4))
    counts = [updates_per_epoch(num_samples, b) for b in batch_sizes]
    ax.plot(batch_sizes, counts, "o-", color="tab:blue", label=f"{num_samples} samples: ceil(N / batch size)")
    for b, count in zip(batch_sizes, counts):
        ax.annotate(str(count), (b, count), textcoords="offset points", xytext=(4, 4), fontsize="small")
    if num_samples == SLIDE_EXAMPLE["num_samples"]:
        ax.plot([SLIDE_EXAMPLE["batch_size"]], [SLIDE_EXAMPLE["updates_per_epoch"]], "*", color="tab:red",
                markersize=14, label="the slide: batch 5 -> 20 updates per epoch")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set(xlabel="batch size (1: SGD, N: gradient descent)", ylabel="updates per epoch",
           title="the mini-batch arithmetic")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small")
    return fig


def plot_train_vs_test(runs, what="acc", ax=None):
    """Train (solid) and test (dashed) accuracy or cost after each epoch, for several
    :class:`mxdl.overfitting.Curves`; ``what`` is ``'acc'`` or ``'cost'``; ``ax=None`` draws both."""
    if ax is None and what in ("acc", "cost"):
        fig = Figure(figsize=(11, 4.2), layout="constrained")
        ax_acc, ax_cost = fig.subplots(1, 2)
        plot_train_vs_test(runs, "acc", ax_acc)
        plot_train_vs_test(runs, "cost", ax_cost)
        return fig
    fig = ax.figure
    for run, color in zip(runs, _COLORS):
        epochs = np.arange(1, len(run.test_acc) + 1)
        train, test = (run.train_acc, run.test_acc) if what == "acc" else (run.train_cost, run.test_cost)
        ax.plot(epochs, train, "-", color=color, label=f"train, {run.model} wd={run.wd:g}")
        ax.plot(epochs, test, "--", color=color, label=f"test, {run.model} wd={run.wd:g}")
    ax.set(xlabel="epoch", ylabel="accuracy" if what == "acc" else "cost (mean loss)",
           title=("train vs test accuracy" if what == "acc" else "train vs test cost")
           + f" ({runs[0].num_train} training digits)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def plot_backprop_check(grads_hand, grads_autograd, ax=None):
    """Every gradient entry computed by hand (x) against autograd's (y): all on the diagonal."""
    fig, ax = _axes(ax, (5, 5))
    for (name, g), color in zip(grads_hand.items(), _COLORS):
        ax.scatter(np.ravel(g), np.ravel(grads_autograd[name]), s=8, color=color, alpha=0.6,
                   label=f"d cost / d {name} ({np.size(g)} numbers)")
    values = np.concatenate([np.ravel(g) for g in grads_hand.values()])
    lims = [values.min(), values.max()]
    ax.plot(lims, lims, color="black", linewidth=0.8, label="equal")
    ax.set(xlabel="by hand (chain rule, numpy)", ylabel="autograd (MXNet)",
           title="backpropagation by hand = autograd")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def plot_regressions(X, y, fits, ax=None, title=None):
    """The points and the dividing lines of linear and logistic regression (``fits``: kind -> fit)."""
    fig, ax = _axes(ax, (6.5, 4.5))
    plot_toy_data(X, y, lines={"y = 2x (the truth)": 2.0}, ax=ax)
    X = np.asarray(X).reshape(-1, 2)
    xs = np.linspace(0, X[:, 0].max(), 2)
    for (kind, result), color in zip(fits.items(), ("tab:red", "tab:purple")):
        ax.plot(xs, result.slope * xs + result.intercept, color=color, linewidth=2,
                label=f"{kind}: y = {result.slope:.2f}x {result.intercept:+.2f}, test acc "
                      f"{result.test_acc:.3f}")
    top = 2.5 * X[:, 0].max() + 10  # far-away points would squash the picture: leave them out of view
    num_far = int((X[:, 1] > top).sum())
    if num_far:
        ax.set_ylim(top=top)
        ax.annotate(f"+ {num_far} far diamonds above, y up to {X[:, 1].max():.0f}", (0.98, 0.02),
                    xycoords="axes fraction", ha="right", fontsize="small")
    ax.set_title(title or "linear vs logistic regression: the dividing lines")
    ax.legend(fontsize="small", loc="upper left")
    return fig
