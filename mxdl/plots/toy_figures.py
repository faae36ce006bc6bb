"""Plots of the circles-and-diamonds story: the data and candidate lines, the cost as a function of the
weight w with its slope, and the cost per epoch of gradient descent vs SGD vs mini-batch SGD.

Each function takes data and an optional ``ax`` and returns the figure; figures are built with
:class:`matplotlib.figure.Figure` (no pyplot, no global current figure), so saving them needs no GUI.
"""
import numpy as np
from matplotlib.figure import Figure

from ..toy import CIRCLE, DIAMOND
from . import new_axes as _axes

# The candidate lines of the slides: which one separates circles from diamonds?
SLIDE_LINES = {"y = 10x": 10.0, "y = x": 1.0, "y = 2x": 2.0}
_LINE_STYLES = [("tab:gray", ":"), ("tab:purple", "-."), ("tab:green", "--")]
_METHOD_COLORS = ["tab:blue", "tab:red", "tab:green", "tab:purple", "tab:orange"]


def plot_toy_data(X, y, lines=None, learned=None, ax=None):
    """The points (circles drawn as circles, diamonds as diamonds) and lines ``y = w·x``.

    ``lines`` maps a label to a slope (default: the slides' y = 10x, y = x, y = 2x); ``learned`` maps
    a label to a learned weight, drawn as a solid line.
    """
    fig, ax = _axes(ax, (6, 4.5))
    X, y = np.asarray(X).reshape(-1, 2), np.asarray(y).reshape(-1)
    for cls, marker, color, name in ((CIRCLE, "o", "tab:blue", "circle (label 0)"),
                                     (DIAMOND, "D", "tab:orange", "diamond (label 1)")):
        points = X[y == cls]
        ax.scatter(points[:, 0], points[:, 1], marker=marker, s=22, facecolors="none",
                   edgecolors=color, linewidths=1.1, label=name)
    x_line = np.linspace(min(0.0, X[:, 0].min()), X[:, 0].max(), 2)
    lines = SLIDE_LINES if lines is None else lines
    # The learned line goes underneath, wide and pale, so that the dashed y = 2x it (nearly) covers
    # stays visible on top of it.
    for name, w in (learned or {}).items():
        ax.plot(x_line, w * x_line, color="black", linewidth=5, alpha=0.3, zorder=1,
                label=f"{name}: y = {w:.3f}x")
    for (name, slope), (color, style) in zip(lines.items(), _LINE_STYLES * len(lines)):
        ax.plot(x_line, slope * x_line, color=color, linestyle=style, linewidth=1.5, zorder=3, label=name)
    pad = 0.05 * (X[:, 1].max() - X[:, 1].min())
    ax.set_ylim(X[:, 1].min() - pad, X[:, 1].max() + pad)
    ax.set(xlabel="x", ylabel="y", title="circles and diamonds: which line y = w·x separates them?")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    return fig


def plot_cost_curve(weights, costs, tangents=(), path=None, ax=None, tangent_width=1.0):
    """The cost as a function of the weight w, with tangent lines showing the slope at a few weights.

    ``tangents`` is a sequence of ``(w, cost, slope)``; ``path`` an optional sequence of
    ``(w, cost)`` visited by gradient descent, drawn as dots.
    """
    fig, ax = _axes(ax, (6, 4.5))
    ax.plot(weights, costs, color="tab:blue", linewidth=4, alpha=0.35, label="cost(w)")
    for i, (w0, c0, slope) in enumerate(tangents):
        w_seg = np.array([w0 - tangent_width / 2, w0 + tangent_width / 2])
        ax.plot(w_seg, c0 + slope * (w_seg - w0), color="tab:red", linewidth=1.5, linestyle="--",
                label="tangent: the slope (gradient) at w" if i == 0 else None)
        ax.plot([w0], [c0], "o", color="tab:red", markersize=6)
        slope = 0.0 if abs(slope) < 5e-3 else slope  # no "-0.00"
        # Labels of falling tangents to the lower left, of the others to the right: no overlaps.
        ax.annotate(f"slope {slope:+.2f}", (w0, c0), textcoords="offset points",
                    xytext=(-8, -14) if slope < 0 else (8, 4), ha="right" if slope < 0 else "left",
                    fontsize="small", color="tab:red")
    if path is not None and len(path):
        path = np.asarray(path)
        ax.plot(path[:, 0], path[:, 1], "x", color="black", markersize=5,
                label="gradient descent, w after each epoch")
    costs = np.asarray(costs, dtype=float)
    lowest = np.flatnonzero(costs <= costs.min() + 1e-12 * max(1.0, abs(costs.min())))
    if len(lowest) > 1:  # a flat bottom (the 0/1 cost): every w in it is a minimum, none is "the" one
        lo, hi = weights[lowest[0]], weights[lowest[-1]]
        ax.axvspan(lo, hi, color="tab:gray", alpha=0.15, label=f"minimum: every w from {lo:.2f} to {hi:.2f}")
    else:
        ax.axvline(weights[lowest[0]], color="tab:gray", linestyle=":", linewidth=1,
                   label=f"minimum at w = {weights[lowest[0]]:.2f}")
    ax.set(xlabel="weight w", ylabel="cost (mean cross-entropy loss)",
           title="the cost as a function of the weight w")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def plot_cost_per_epoch(histories, x="epoch", ax=None):
    """Cost of each epoch for several runs (``histories``: name -> :class:`mxdl.train.History`).

    ``x`` is ``'epoch'``, ``'updates'`` (cumulative trainer steps, log scale) or ``'seconds'``
    (cumulative training time).
    """
    fig, ax = _axes(ax, (6, 4.5))
    for (name, history), color in zip(histories.items(), _METHOD_COLORS * len(histories)):
        if x == "epoch":
            xs = history.column("epoch")
        elif x in ("updates", "seconds"):
            xs = np.cumsum(history.column(x))
        else:
            raise ValueError(f"x must be 'epoch', 'updates' or 'seconds', not {x!r}")
        ax.plot(xs, history.column("cost"), "o-", color=color, markersize=3, label=name)
    ax.set_yscale("log")
    if x == "updates":
        ax.set_xscale("log")
    xlabel, title = {"epoch": ("epoch", "training cost per epoch"),
                     "updates": ("updates w <- w - lr * gradient so far (log scale)",
                                 "cost after each epoch vs updates so far"),
                     "seconds": ("training time so far (s)", "training cost vs time")}[x]
    ax.set(xlabel=xlabel, ylabel="cost (mean loss, log scale)", title=title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small")
    return fig


def plot_gd_vs_sgd(histories):
    """Two panels: cost per epoch, and cost against the number of updates, for each method."""
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    ax_epoch, ax_updates = fig.subplots(1, 2)
    plot_cost_per_epoch(histories, x="epoch", ax=ax_epoch)
    plot_cost_per_epoch(histories, x="updates", ax=ax_updates)
    return fig
