"""The cost as a function of the weight w, and its slope: the picture behind gradient descent.

For the toy classifier (score ``y - w·x``, see :mod:`mxdl.models.line`) the cost depends on one number,
``w``, so it can be drawn as a curve over a range of weights; its minimum sits at the true slope (w = 2
on the default data).  The slope of that curve at a weight is the gradient that gradient descent
follows downhill.  It is computed two ways that must agree: a finite difference of the curve
(:func:`slope_finite_difference`) and MXNet's ``autograd`` through the Gluon model and loss
(:func:`slope_autograd`).
"""
import numpy as np
from mxnet import autograd, gluon, init, nd

from . import losses
from .models.line import line_classifier

LOSSES = ("binary_cross_entropy", "squared_error", "zero_one")


def _columns(X):
    X = X.asnumpy() if isinstance(X, nd.NDArray) else np.asarray(X)
    X = X.astype(np.float64).reshape(-1, 2)
    return X[:, 0], X[:, 1]  # x, y


def cost_curve(X, y, weights, loss="binary_cross_entropy"):
    """The cost of the classifier with weight ``w``, for each ``w`` in ``weights`` (float64 numpy).

    ``loss``: ``'binary_cross_entropy'`` (the training loss, on the score), ``'squared_error'`` (of
    the probability ``sigmoid(score)``) or ``'zero_one'`` (the fraction of wrong labels).
    """
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}: choose one of {', '.join(LOSSES)}")
    x, y_col = _columns(X)
    label = np.asarray(y.asnumpy() if isinstance(y, nd.NDArray) else y, dtype=np.float64).reshape(-1)
    weights = np.atleast_1d(np.asarray(weights, dtype=np.float64))
    score = y_col[None, :] - weights[:, None] * x[None, :]  # (num_weights, N)
    if loss == "binary_cross_entropy":
        per_input = losses.binary_cross_entropy_from_score(score, label[None, :])
    elif loss == "squared_error":
        per_input = losses.squared_error(1 / (1 + np.exp(-score)), label[None, :])
    else:
        per_input = losses.zero_one_loss(score >= 0, label[None, :])
    return per_input.mean(axis=1)


def cost_at(X, y, w, loss="binary_cross_entropy"):
    """The cost at one weight ``w``, as a float."""
    return float(cost_curve(X, y, [w], loss)[0])


def slope_finite_difference(X, y, w, h=1e-4, loss="binary_cross_entropy"):
    """``(cost(w + h) - cost(w - h)) / 2h``: the slope of the cost curve at ``w``, with no calculus."""
    return (cost_at(X, y, w + h, loss) - cost_at(X, y, w - h, loss)) / (2 * h)


def slope_autograd(X, y, w, ctx=None):
    """d(cost)/dw at ``w`` by ``autograd`` through the Gluon classifier and its training loss."""
    net = line_classifier(ctx=ctx, weight_initializer=init.Constant(float(w)))
    loss_fn = gluon.loss.SigmoidBinaryCrossEntropyLoss()
    X_nd = nd.array(X, ctx=ctx, dtype="float32")
    y_nd = nd.array(y, ctx=ctx, dtype="float32")
    with autograd.record():
        cost = loss_fn(net(X_nd), y_nd).mean()
    cost.backward()
    return float(net.line.weight.grad(net.line.weight.list_ctx()[0]).asscalar())


def tangent(X, y, w):
    """``(cost, slope)`` at ``w``: the tangent line ``cost + slope * (v - w)`` touches the curve there."""
    return cost_at(X, y, w), slope_finite_difference(X, y, w)

