"""Plots of an MNIST run: accuracy and cost per epoch, test digits with their predictions, confusion.

The talk's demo ends by showing ten test digits with what the model predicted; these plots add the
curves that say how training went and the confusion matrix that says which digits are mistaken for
which.  Each function takes data and an optional ``ax`` and returns the figure; figures are built
with :class:`matplotlib.figure.Figure` (no pyplot, no global current figure), so saving them needs
no GUI: ``fig.savefig('accuracy.png')``.
"""
import numpy as np
from matplotlib.patches import Rectangle

from . import new_axes as _axes

_WRONG = "tab:red"


def plot_accuracy(history, ax=None):
    """Train and test accuracy after each epoch (``history``: :class:`mxdl.train.History`)."""
    fig, ax = _axes(ax, (5, 3.5))
    epochs = history.column("epoch")
    ax.plot(epochs, history.column("train_acc"), "o-", label="train (during the epoch)")
    test_acc = history.column("test_acc")
    if not all(np.isnan(test_acc)):
        ax.plot(epochs, test_acc, "s-", label="test (after the epoch)")
    ax.set(xlabel="epoch", ylabel="accuracy", title="accuracy per epoch")
    ax.set_xticks(epochs)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def plot_cost(history, ax=None):
    """The cost (mean loss over the training samples) of each epoch."""
    fig, ax = _axes(ax, (5, 3.5))
    epochs = history.column("epoch")
    ax.plot(epochs, history.column("cost"), "o-")
    ax.set(xlabel="epoch", ylabel="cost (mean loss)", title="training cost per epoch")
    ax.set_xticks(epochs)
    ax.grid(alpha=0.3)
    return fig


def plot_samples(X, y, y_pred, classes=None, ax=None, ncols=10):
    """A grid of images ``X`` labelled with the prediction ``y_pred`` and the truth ``y``.

    Wrong predictions are written in red, framed in red and show the true label too.  ``X`` is
    (n, 1, 28, 28) or (n, 28, 28) with values in [0, 1]; ``classes`` names the labels (default: the
    label numbers).
    """
    X = np.asarray(X, dtype="float32").reshape(len(X), *np.shape(X)[-2:])  # (n, h, w)
    y, y_pred = np.asarray(y).astype(int), np.asarray(y_pred).astype(int)
    n, h, w = X.shape
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    gap, band = 4, 14  # pixels between tiles, and above each tile for its label
    pitch_x, pitch_y = w + gap, h + band
    # One mosaic image (0 = background) so that the grid needs one axes, not n.
    canvas = np.zeros((nrows * pitch_y + gap // 2, ncols * pitch_x), dtype="float32")
    corners = []  # (left, top) of each tile
    for i in range(n):
        row, col = divmod(i, ncols)
        left, top = col * pitch_x + gap // 2, row * pitch_y + band
        canvas[top:top + h, left:left + w] = X[i]
        corners.append((left, top))
    fig, ax = _axes(ax, (1.25 * ncols, 1.5 * nrows + 0.4))
    ax.imshow(canvas, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    name = (lambda k: str(classes[k])) if classes is not None else str
    for i, (left, top) in enumerate(corners):
        wrong = y_pred[i] != y[i]
        label = name(y_pred[i]) + (f"\n(true {name(y[i])})" if wrong else "")
        ax.text(left + w / 2, top - 1, label, ha="center", va="bottom", fontsize=7,
                color=_WRONG if wrong else "black", fontweight="bold" if wrong else "normal")
        if wrong:
            ax.add_patch(Rectangle((left - 1, top - 1), w + 1, h + 1, fill=False, edgecolor=_WRONG,
                                   linewidth=1.5))
    ax.set_xticks([])
    ax.set_yticks([])
    num_wrong = int((y_pred != y).sum())
    ax.set_title(f"predicted label above each test image ({num_wrong} of {n} wrong, in red)")
    return fig


def confusion_matrix(y, y_pred, num_classes=10):
    """``counts[i, j]``: how many samples of true class i were predicted as class j."""
    y, y_pred = np.asarray(y).astype(int).ravel(), np.asarray(y_pred).astype(int).ravel()
    if len(y) != len(y_pred):
        raise ValueError(f"{len(y)} labels but {len(y_pred)} predictions")
    return np.bincount(y * num_classes + y_pred, minlength=num_classes ** 2).reshape(num_classes,
                                                                                     num_classes)


def plot_confusion(y, y_pred, classes=None, ax=None):
    """The confusion matrix of ``y_pred`` against ``y``: rows are true classes, columns predictions."""
    num_classes = len(classes) if classes is not None else 10
    counts = confusion_matrix(y, y_pred, num_classes)
    names = [str(c) for c in classes] if classes is not None else [str(k) for k in range(num_classes)]
    fig, ax = _axes(ax, (6.5, 6))
    ax.imshow(counts, cmap="Blues")
    threshold = counts.max() / 2 if counts.size else 0
    for i in range(num_classes):
        for j in range(num_classes):
            if counts[i, j]:
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if counts[i, j] > threshold else "black")
    ticks = np.arange(num_classes)
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set_xticklabels(names, rotation=45 if max(map(len, names)) > 2 else 0, ha="right"
                       if max(map(len, names)) > 2 else "center")
    ax.set_yticklabels(names)
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set(xlabel="predicted label", ylabel="true label",
           title=f"confusion matrix (accuracy {accuracy:.4f})")
    return fig


def plot_lr(history, ax=None):
    """The learning rate of each epoch (its last update's): flat for plain SGD, shaped by a schedule."""
    fig, ax = _axes(ax, (5, 3.5))
    epochs = history.column("epoch")
    ax.plot(epochs, history.column("lr"), "o-", color="tab:green")
    ax.set(xlabel="epoch", ylabel="learning rate", title="learning rate per epoch")
    ax.set_xticks(epochs)
    ax.grid(alpha=0.3)
    return fig
