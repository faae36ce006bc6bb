"""Gradient descent from scratch, the way the slide writes it: ``w <- w - lr * gradient``.

No Gluon, no autograd: the gradient of the cross-entropy cost of the toy classifier (score
``s = y - w·x``, ``y_hat = sigmoid(s)``) is worked out by hand,

    d loss / dw = d loss / ds * ds / dw = (y_hat - label) * (-x),

and averaged over the batch.  The same loop is gradient descent, SGD or mini-batch SGD depending on
``batch_size`` alone, exactly like :func:`mxdl.train.fit`; on the same data in the same order it ends
at the same weight as ``gluon.Trainer`` (the tests check this to 1e-6).
"""
import numpy as np

from .errors import MxdlError


def sigmoid(s):
    """``1 / (1 + exp(-s))``: turns a score into the probability of a diamond."""
    return 1 / (1 + np.exp(-s))


def gradient(X, y, w):
    """d(cost)/dw of the cross-entropy cost over the batch ``X`` (batch, 2), labels ``y`` (batch,)."""
    x, y_col = X[:, 0], X[:, 1]
    y_hat = sigmoid(y_col - w * x)
    return np.mean((y_hat - y) * -x)


def gradient_descent(X, y, *, lr, num_epochs, batch_size=None, w=0.0, shuffle=False, seed=None,
                     on_update=None):
    """Train the toy classifier's weight from ``w`` (0, as on the slide); return ``w`` after each epoch.

    ``batch_size`` None (or N) is gradient descent, 1 is SGD, b is mini-batch SGD with the last short
    batch kept.  With ``shuffle`` each epoch re-orders the data by ``RandomState(seed).permutation``,
    applied to the previous epoch's order -- the same order :func:`mxdl.train.fit` uses for that seed.
    ``on_update(w)`` is called with the new weight after every update (see :func:`weight_path`).
    """
    X = np.asarray(X, dtype=np.float64).reshape(-1, 2)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    n = len(X)
    if n == 0:
        raise MxdlError("the training data is empty: give at least one sample")
    batch_size = n if batch_size is None else batch_size
    if not 1 <= batch_size <= n or lr <= 0 or num_epochs < 1:
        raise MxdlError(f"need 1 <= batch_size <= {n}, lr > 0 and num_epochs >= 1; got "
                        f"batch_size={batch_size}, lr={lr}, num_epochs={num_epochs}")
    rng = np.random.RandomState(seed)
    weights = []
    for _ in range(num_epochs):
        if shuffle:
            order = rng.permutation(n)
            X, y = X[order], y[order]
        for start in range(0, n, batch_size):
            w = w - lr * gradient(X[start:start + batch_size], y[start:start + batch_size], w)
            if on_update is not None:
                on_update(float(w))
        weights.append(float(w))
    return weights


def weight_path(X, y, *, lr, num_epochs, batch_size=None, w=0.0, shuffle=False, seed=None):
    """``w`` before training and after every single update: the path that shows SGD "bouncing around".

    The same loop as :func:`gradient_descent` (same arguments, same order of samples), recording
    after each update instead of each epoch: 1 + num_epochs * ceil(N / batch_size) values.  Gradient
    descent's path walks steadily downhill; SGD's follows one sample at a time, each pulling ``w`` its
    own way, so it jumps about the minimum instead of settling on it; mini-batch SGD lies between.
    """
    path = [float(w)]
    gradient_descent(X, y, lr=lr, num_epochs=num_epochs, batch_size=batch_size, w=w, shuffle=shuffle,
                     seed=seed, on_update=path.append)
    return path
