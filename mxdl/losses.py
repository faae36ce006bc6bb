"""Loss and cost, as the slides write them and as Gluon computes them.

A *loss* scores one input: how wrong the prediction ``y_hat`` is for the true label ``y``.  The *cost*
is the mean loss over the inputs, the one number that training makes small.  Labels are 0 (circle)
and 1 (diamond).

The slide formulas (plain numpy, one value per input):

* 0/1 loss: 0 for a correct prediction, 1 for a wrong one (``y_hat`` is a predicted label);
* squared error: ``(y_hat - y)**2``; its cost is the mean squared error (MSE);
* binary cross-entropy: ``-y log(y_hat) - (1 - y) log(1 - y_hat)`` (``y_hat`` is a probability).

Their Gluon counterparts (see :func:`gluon_loss`; the tests check they agree to 1e-6):

* squared error: ``gluon.loss.L2Loss`` computes *half* the squared error, ``(y_hat - y)**2 / 2`` (the
  half makes its gradient ``y_hat - y``), so :func:`gluon_squared_error` doubles it;
* cross-entropy on a probability: ``gluon.loss.SigmoidBinaryCrossEntropyLoss(from_sigmoid=True)``;
  on a score, ``SigmoidBinaryCrossEntropyLoss()`` applies the sigmoid itself in a numerically stable
  way -- that is the loss the toy classifier is trained with;
* the 0/1 loss has no gradient (it is flat almost everywhere), so Gluon has no such loss: it is
  what accuracy measures (accuracy = 1 - mean 0/1 loss), not something to train on.
"""
import numpy as np
from mxnet import gluon, nd


def _numpy(a):
    return a.asnumpy() if isinstance(a, nd.NDArray) else np.asarray(a, dtype=np.float64)


def zero_one_loss(y_hat, y):
    """The slide's loss: 0 where the predicted label ``y_hat`` equals ``y``, 1 where it is wrong."""
    return (_numpy(y_hat) != _numpy(y)).astype(np.float64)


def squared_error(y_hat, y):
    """``(y_hat - y)**2`` for each input; :func:`cost` of it is the MSE."""
    return (_numpy(y_hat) - _numpy(y)) ** 2


def binary_cross_entropy(y_hat, y):
    """The slide's ``-y log(y_hat) - (1 - y) log(1 - y_hat)``, ``y_hat`` the probability of a diamond."""
    y_hat, y = _numpy(y_hat), _numpy(y)
    return -y * np.log(y_hat) - (1 - y) * np.log(1 - y_hat)


def binary_cross_entropy_from_score(score, y):
    """The same cross-entropy with ``y_hat = sigmoid(score)``, in a form that cannot overflow.

    ``-y log(sigmoid(s)) - (1 - y) log(1 - sigmoid(s)) = max(s, 0) - s·y + log(1 + exp(-|s|))``: the
    slide formula would take ``log(0)`` once ``sigmoid(s)`` rounds to 0 or 1 (|s| > ~37 in float64).
    """
    s, y = _numpy(score), _numpy(y)
    return np.maximum(s, 0) - s * y + np.log1p(np.exp(-np.abs(s)))


def cost(losses):
    """The cost: the mean of the losses over the inputs."""
    return float(np.mean(_numpy(losses)))


def mse(y_hat, y):
    """Mean squared error: the cost of :func:`squared_error`."""
    return cost(squared_error(y_hat, y))


def gluon_squared_error(y_hat, y):
    """The squared error by Gluon: ``2 * L2Loss`` because ``L2Loss`` is half the squared error."""
    return 2 * gluon.loss.L2Loss()(y_hat, y)


def gluon_loss(name):
    """Gluon's version of a loss of this module, by the function's name.

    ``'squared_error'``, ``'binary_cross_entropy'`` (on probabilities) or
    ``'binary_cross_entropy_from_score'`` (on scores: the toy classifier's training loss).

    Returns a callable ``(y_hat, y) -> NDArray`` of per-input losses on NDArrays.
    """
    if name == "squared_error":
        return gluon_squared_error
    if name == "binary_cross_entropy":
        return gluon.loss.SigmoidBinaryCrossEntropyLoss(from_sigmoid=True)
    if name == "binary_cross_entropy_from_score":
        return gluon.loss.SigmoidBinaryCrossEntropyLoss()
    raise ValueError(f"Gluon has no {name!r} loss; choose 'squared_error', 'binary_cross_entropy' or "
                     "'binary_cross_entropy_from_score' (the 0/1 loss has no gradient and no Gluon loss)")
