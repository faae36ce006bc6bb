"""Plots for the talk's figures: each function takes data (and an optional matplotlib ``ax``) and returns
a :class:`matplotlib.figure.Figure`.

Import the submodule you need (``mxdl.plots.toy_figures``, ``mxdl.plots.training``); nothing here imports
matplotlib, so ``import mxdl`` stays light and never picks a plotting backend.
"""

from ..utils import atomic_write


def save_figure(fig, path, dpi=100):
    """Save ``fig`` as a PNG at ``path``, atomically (a temporary file beside it, then a rename)."""
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", dpi=dpi)
    return path
