"""Plots of an evaluation: the worst mistakes as a picture grid, and per-class precision and recall.

Each function takes data (and an optional ``ax``) and returns a :class:`matplotlib.figure.Figure`.
"""
import numpy as np

from . import new_axes
from .training import plot_samples


def plot_mistakes(X, y, y_pred, confidence, classes=None, ax=None, ncols=10):
    """The wrong predictions ``X[i]`` (already picked, surest first) with the label the net gave, how
    sure it was, and the true label: the pictures to look at first when a net disappoints."""
    X = np.asarray(X, dtype="float32")
    if len(X) == 0:
        fig, ax = new_axes(None, (5, 1.2))
        ax.axis("off")
        ax.set_title("no mistakes: every test sample was classified right")
        return fig
    fig = plot_samples(X, y, y_pred, classes, ax=ax, ncols=ncols)
    ax = fig.axes[0] if ax is None else ax
    ax.set_title(f"the {len(X)} mistakes the net was surest of (predicted label above, true label in "
                 f"brackets; surest {float(np.max(confidence)):.3f}, least {float(np.min(confidence)):.3f})",
                 fontsize=9)
    return fig


def plot_precision_recall(rows, ax=None):
    """Per-class precision and recall as grouped bars (``rows``: :meth:`mxdl.metrics.Evaluation.rows`)."""
    fig, ax = new_axes(ax, (max(5, 0.55 * len(rows) + 2), 3.2))
    names = [row["class"] for row in rows]
    x = np.arange(len(rows))
    ax.bar(x - 0.2, [row["precision"] for row in rows], 0.4, label="precision")
    ax.bar(x + 0.2, [row["recall"] for row in rows], 0.4, label="recall")
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=45 if max(map(len, names)) > 2 else 0,
                       ha="right" if max(map(len, names)) > 2 else "center")
    ax.set(ylim=(0, 1.05), ylabel="fraction", title="precision and recall per class")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(loc="lower right", fontsize="small")
    return fig
