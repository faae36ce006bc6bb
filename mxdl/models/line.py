"""The talk's first model: the function y = w·x, and the circles-vs-diamonds classifier built on it.

:class:`Line` is ``y = w·x`` with one learnable weight ``w`` (the "2" of y = 2x).  :class:`LineClassifier`
asks of a point (x, y) which side of the line it lies on: its *score* is ``y - w·x``, the point is a
diamond when the score is >= 0 and a circle otherwise, and ``sigmoid(score)`` is the probability that
it is a diamond.  ``w`` starts at 0, as in the slide's gradient-descent algorithm, unless an
initialiser is given.
"""
import mxnet as mx
from mxnet import gluon


class Line(gluon.HybridBlock):
    """``y = w·x``: one input number ``x`` of shape (batch,), one learnable weight ``w``."""

    def __init__(self, weight_initializer=None, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            # shape (1,): the single number the talk calls w.
            self.weight = self.params.get("weight", shape=(1,),
                                          init=weight_initializer or mx.init.Zero())

    def hybrid_forward(self, F, x, weight):  # pylint: disable=arguments-differ
        return F.broadcast_mul(x, weight)

    @property
    def w(self):
        """The current weight as a Python float (parameters must be initialised)."""
        return float(self.weight.data(self.weight.list_ctx()[0]).asscalar())

    def __repr__(self):
        try:
            value = f"w={self.w:.4f}"
        except RuntimeError:  # not initialised yet
            value = "w uninitialized"
        return f"{self.__class__.__name__}(y = w*x, 1 weight, {value})"


class LineClassifier(gluon.HybridBlock):
    """Circle or diamond?  Input ``X`` (batch, 2) with columns x, y; output the score ``y - w·x`` (batch,).

    Score >= 0 means diamond (label 1), < 0 circle (label 0); see :func:`score_to_label` and
    :meth:`probability`.  Train it with ``gluon.loss.SigmoidBinaryCrossEntropyLoss()`` on the score.
    """

    def __init__(self, weight_initializer=None, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.line = Line(weight_initializer)

    def hybrid_forward(self, F, X):  # pylint: disable=arguments-differ
        x = F.reshape(F.slice_axis(X, axis=1, begin=0, end=1), shape=(-1,))  # (batch,)
        y = F.reshape(F.slice_axis(X, axis=1, begin=1, end=2), shape=(-1,))  # (batch,)
        return y - self.line(x)  # how far above the line y = w·x the point lies

    @property
    def w(self):
        """The learned slope of the dividing line."""
        return self.line.w

    def probability(self, X):
        """``sigmoid(y - w·x)``: the probability that each point is a diamond."""
        return mx.nd.sigmoid(self(X))


def score_to_label(score):
    """The classifier's decision: 1 (diamond) where ``score >= 0``, else 0 (circle); ``to_label`` for fit."""
    return score >= 0


def line_classifier(ctx=None, weight_initializer=None):
    """A :class:`LineClassifier` initialised on ``ctx`` (default CPU); ``w = 0`` unless told otherwise."""
    net = LineClassifier(weight_initializer)
    net.initialize(ctx=ctx)
    return net
