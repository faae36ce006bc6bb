"""Plots for the talk's figures: each function takes data (and an optional matplotlib ``ax``) and returns
a :class:`matplotlib.figure.Figure`.

Import the submodule you need (``mxdl.plots.toy_figures``, ``mxdl.plots.training``); nothing here imports
matplotlib, so ``import mxdl`` stays light and never picks a plotting backend.
"""

from ..files import atomic_write


def new_axes(ax, figsize):
    """``ax`` and its figure, or (``ax`` None) a new figure of ``figsize`` with one axes: how every
    plot function here starts, so that it can draw into a caller's axes or return a figure of its own."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure  # here: importing mxdl.plots must not import matplotlib

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def batch_size_label(batch_size, num_train=None):
    """The label of a batch size in plots and tables: ``'1 (SGD)'``, ``'64'``, ``'8000 (GD)'``
    (``'full (GD)'`` when the batch size is None and N unknown)."""
    if batch_size is None or (num_train is not None and batch_size >= num_train):
        return f"{num_train or 'full'} (GD)"
    return "1 (SGD)" if batch_size == 1 else str(batch_size)


def save_figure(fig, path, dpi=100):
    """Save ``fig`` as a PNG at ``path``, atomically (a temporary file beside it, then a rename)."""
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", dpi=dpi)
    return path
