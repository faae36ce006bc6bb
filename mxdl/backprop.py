"""Backpropagation by hand: the chain rule through a two-layer net, checked against ``autograd``.

The "Next Steps" slide: "Backpropagation" and "Learning in Neural Network => SGD + Backprop".  SGD
needs the gradient of the cost with respect to every weight; backpropagation computes all of them in
one backward sweep, applying the chain rule layer by layer from the cost back to the input.

The net (shapes for a batch of n inputs of d numbers, k hidden units, c classes)::

    z1    = X @ W1.T + b1        (n, k)   first layer, W1 (k, d), b1 (k,)
    h     = sigmoid(z1)          (n, k)   hidden activations
    y_hat = h @ W2.T + b2        (n, c)   second layer: one score per class, W2 (c, k), b2 (c,)
    cost  = mean over the batch of softmax cross-entropy(y_hat, y)

Backward, one chain-rule step per line (``d_v`` means d cost / d v)::

    d_y_hat = (softmax(y_hat) - onehot(y)) / n     the slope of cross-entropy after softmax
    d_W2    = d_y_hat.T @ h,   d_b2 = sum of d_y_hat over the batch
    d_h     = d_y_hat @ W2                          back through the second layer's weights
    d_z1    = d_h * h * (1 - h)                     back through the sigmoid: sigmoid' = h (1 - h)
    d_W1    = d_z1.T @ X,      d_b1 = sum of d_z1 over the batch

:func:`gradients_by_hand` does this in numpy; :func:`gradients_autograd` asks MXNet for the same
numbers through a Gluon net with the same weights.  The tests check they agree.
"""
import numpy as np
from mxnet import autograd, gluon, nd

PARAMS = ("W1", "b1", "W2", "b2")


def init_params(d, k, c, seed=0, scale=0.5):
    """Random weights ``{'W1': (k, d), 'b1': (k,), 'W2': (c, k), 'b2': (c,)}`` (float64)."""
    rng = np.random.RandomState(seed)
    return {"W1": rng.normal(0, scale, (k, d)), "b1": rng.normal(0, scale, k),
            "W2": rng.normal(0, scale, (c, k)), "b2": rng.normal(0, scale, c)}


def sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), without overflow


def softmax(scores):
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward(params, X, y):
    """The forward pass: ``(cost, cache)``, where the cache keeps what the backward pass needs."""
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    y = np.asarray(y).astype(int).reshape(-1)
    h = sigmoid(X @ params["W1"].T + params["b1"])
    y_hat = h @ params["W2"].T + params["b2"]
    p = softmax(y_hat)
    cost = float(-np.mean(np.log(p[np.arange(len(y)), y])))
    return cost, {"X": X, "y": y, "h": h, "p": p}


def backward(params, cache):
    """The backward pass: d cost / d each parameter, by the chain rule (see the module doc)."""
    X, y, h, p = cache["X"], cache["y"], cache["h"], cache["p"]
    n = len(y)
    d_y_hat = p.copy()
    d_y_hat[np.arange(n), y] -= 1
    d_y_hat /= n
    d_h = d_y_hat @ params["W2"]
    d_z1 = d_h * h * (1 - h)
    return {"W2": d_y_hat.T @ h, "b2": d_y_hat.sum(axis=0),
            "W1": d_z1.T @ X, "b1": d_z1.sum(axis=0)}


def gradients_by_hand(params, X, y):
    """``(cost, gradients)`` of the two-layer net, computed with numpy and the chain rule."""
    cost, cache = forward(params, X, y)
    return cost, backward(params, cache)


def gluon_net(params):
    """The same net as Gluon layers: ``Dense(k, sigmoid)`` then ``Dense(c)``, holding ``params``."""
    k, d = params["W1"].shape
    c = params["W2"].shape[0]
    net = gluon.nn.Sequential()
    net.add(gluon.nn.Dense(k, activation="sigmoid", in_units=d), gluon.nn.Dense(c, in_units=k))
    net.initialize()
    for layer, (W, b) in zip(net, (("W1", "b1"), ("W2", "b2"))):
        layer.weight.set_data(nd.array(params[W], dtype="float64").astype("float32"))
        layer.bias.set_data(nd.array(params[b], dtype="float64").astype("float32"))
    return net


def gradients_autograd(params, X, y):
    """``(cost, gradients)`` of the same net and cost from MXNet's ``autograd`` (float32)."""
    net = gluon_net(params)
    X = nd.array(np.asarray(X).reshape(len(X), -1))
    y = nd.array(np.asarray(y).reshape(-1))
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    with autograd.record():
        cost = loss_fn(net(X), y).mean()
    cost.backward()
    grads = {"W1": net[0].weight.grad(), "b1": net[0].bias.grad(),
             "W2": net[1].weight.grad(), "b2": net[1].bias.grad()}
    return float(cost.asscalar()), {name: g.asnumpy().astype(np.float64) for name, g in grads.items()}


def max_difference(grads_a, grads_b):
    """The largest absolute difference between two sets of gradients, parameter by parameter."""
    return {name: float(np.max(np.abs(grads_a[name] - grads_b[name]))) for name in PARAMS}


def sgd_step(params, grads, lr):
    """One update of every weight, ``w <- w - lr * d cost / d w``: SGD + backprop is learning."""
    return {name: params[name] - lr * grads[name] for name in PARAMS}
