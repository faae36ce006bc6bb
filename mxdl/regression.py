"""Linear vs logistic regression, side by side on the circles and diamonds.

The "Next Steps" slide's first item.  Both are the same model, a weighted sum of the inputs
``s = w1·x + w2·y + b`` (a Gluon ``Dense(1)``), trained by the same loop (:func:`mxdl.train.fit`);
they differ only in what ``s`` is taken to mean and so in the loss:

* *linear regression* predicts the label itself as a number, ``y_hat = s``, with the squared error
  ``(y_hat - label)^2``; a point is called a diamond when ``y_hat >= 0.5``;
* *logistic regression* predicts the probability of a diamond, ``y_hat = sigmoid(s)``, with the
  cross-entropy loss; a diamond when ``y_hat >= 0.5``, i.e. ``s >= 0``.

Both draw a straight dividing line.  The difference shows when some points are *easy* -- far from
the line: linear regression is penalised for predicting 3 for a diamond whose label is 1, so far
points drag its line towards them and it misclassifies points near the line; logistic regression's
loss barely changes once a point is surely right, so its line stays put.  :func:`add_far_diamonds`
adds such points.

"""
import dataclasses

import mxnet as mx
import numpy as np
from mxnet import gluon, nd

from .train import fit
from .toy import DIAMOND


@dataclasses.dataclass
class RegressionFit:
    """One trained model: its dividing line ``y = slope·x + intercept`` and accuracies."""

    kind: str  # 'linear' or 'logistic'
    slope: float
    intercept: float
    train_acc: float
    test_acc: float
    outputs: np.ndarray  # y_hat on the test points: any number for linear, a probability for logistic

    def __str__(self):
        return (f"{self.kind:8s} regression: dividing line y = {self.slope:.3f}x {self.intercept:+.3f}, "
                f"train acc {self.train_acc:.3f}, test acc {self.test_acc:.3f}, outputs in "
                f"[{self.outputs.min():.2f}, {self.outputs.max():.2f}]")


def _linear_label(y_hat):
    return y_hat.reshape((-1,)) >= 0.5


def _logistic_label(y_hat):
    return y_hat.reshape((-1,)) >= 0  # sigmoid(s) >= 0.5


KINDS = {
    # kind -> (loss on s, s -> predicted label, s -> y_hat)
    "linear": (gluon.loss.L2Loss(), _linear_label, lambda s: s),
    "logistic": (gluon.loss.SigmoidBinaryCrossEntropyLoss(), _logistic_label,
                 lambda s: 1 / (1 + np.exp(-s))),
}


def fit_regression(kind, train, test, *, lr=0.5, num_epochs=200, batch_size=None, seed=0):
    """Train a ``Dense(1)`` as ``kind`` ('linear' or 'logistic') regression; return a :class:`RegressionFit`.

    Gradient descent on the whole training set by default.  The inputs are standardised with the
    training set's mean and standard deviation (so one learning rate suits both models); the
    dividing line is reported in the original coordinates.  ``L2Loss`` is half the squared error,
    which changes the step size, not the minimum.
    """
    loss_fn, to_label, output = KINDS[kind]
    (X, y), (X_test, y_test) = train, test
    X, X_test = np.asarray(X, np.float64), np.asarray(X_test, np.float64)
    mean, std = X.mean(axis=0), X.std(axis=0)
    scale = lambda A: ((A - mean) / std).astype(np.float32)  # noqa: E731
    net = gluon.nn.Dense(1, in_units=2)
    net.initialize(mx.init.Zero())  # w = 0, as on the slide
    history = fit(net, loss_fn, (scale(X), np.asarray(y, np.float32)),
                  (scale(X_test), np.asarray(y_test, np.float32)), num_epochs=num_epochs,
                  batch_size=batch_size, lr=lr, seed=seed, to_label=to_label)
    (w1, w2), b = net.weight.data().asnumpy()[0].astype(np.float64), float(net.bias.data().asscalar())
    threshold = 0.5 if kind == "linear" else 0.0
    # s = w1 (x - mean_x)/std_x + w2 (y - mean_y)/std_y + b = threshold, solved for y:
    c = threshold - b + w1 * mean[0] / std[0] + w2 * mean[1] / std[1]
    slope, intercept = -(w1 * std[1]) / (w2 * std[0]), c * std[1] / w2
    s_train = net(nd.array(scale(X))).asnumpy().reshape(-1)
    s_test = net(nd.array(scale(X_test))).asnumpy().reshape(-1)
    train_acc = float(((s_train >= threshold) == (np.asarray(y) == DIAMOND)).mean())
    return RegressionFit(kind, float(slope), float(intercept), train_acc, history.last.test_acc,
                         output(s_test))


def compare(train, test, **kwargs):
    """Linear and logistic regression on the same data: ``{'linear': fit, 'logistic': fit}``."""
    return {kind: fit_regression(kind, train, test, **kwargs) for kind in KINDS}


def add_far_diamonds(X, y, num=40, height=(100.0, 200.0), m=2.0, seed=0):
    """``(X, y)`` with ``num`` more diamonds far above the line ``y = m·x`` (``height`` above it).

    They are the easiest points of all -- every sensible line calls them diamonds -- and they are
    what pulls linear regression's line away from ``y = m·x``.
    """
    rng = np.random.RandomState(seed)
    x = rng.uniform(0, np.asarray(X)[:, 0].max(), num)
    far = np.stack([x, m * x + rng.uniform(*height, num)], axis=1).astype(np.float32)
    return (np.concatenate([np.asarray(X, np.float32), far]),
            np.concatenate([np.asarray(y, np.float32), np.full(num, DIAMOND, np.float32)]))
