"""Plots for the talk's figures: each function takes data (and an optional matplotlib ``ax``) and returns
a :class:`matplotlib.figure.Figure`.

Import the submodule you need (``mxdl.plots.toy``, ``mxdl.plots.training``); nothing here imports
matplotlib, so ``import mxdl`` stays light and never picks a plotting backend.
"""
