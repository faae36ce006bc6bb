"""Why ``y = w·x`` and not ``y = x²``?  The model family is a choice, and the data decides it.

The slide "But, wait..." asks why the model is ``y = m·x`` and not ``y = x²``.  A *model family* is a
function with weights left open: ``y = w·x`` (every line through the origin) or ``y = w·x²`` (every
parabola through it).  Training picks the best member of a family, never a better family.  Here
both families are trained the same way on the same circles and diamonds: the score of a point (x, y)
is ``y - w·f(x)`` with ``f(x) = x`` or ``x²``, and ``w`` minimises the mean cross-entropy cost (the
cost is convex in ``w``, so the minimum is found exactly by bisection on its slope).

On the talk's data (the dividing line is y = 2x) the line family finds ``w ≈ 2`` and gets every
point right; the best parabola can cross the line only once, so it is wrong on one side of that
crossing.  :func:`bend` makes data whose dividing curve *is* a parabola, and there the roles swap:
this is what "the data decides" means.
"""
import dataclasses

import numpy as np

# name -> f, the feature the weight multiplies: score = y - w * f(x)
FAMILIES = {"y = w·x": lambda x: x, "y = w·x²": lambda x: x ** 2}


@dataclasses.dataclass
class FamilyFit:
    """The best member of one model family on some data, and what it gets wrong."""

    family: str
    w: float  # the weight that minimises the training cost
    cost: float  # the training cost (mean cross-entropy) at w
    train_acc: float
    test_acc: float
    wrong_train: np.ndarray  # (k, 2) the training points it classifies wrongly
    wrong_test: np.ndarray

    def __str__(self):
        return (f"{self.family:9s} best w = {self.w:.4f}  cost {self.cost:.4f}  train acc "
                f"{self.train_acc:.3f}  test acc {self.test_acc:.3f}  wrong: {len(self.wrong_train)} "
                f"train, {len(self.wrong_test)} test points")


def _score(X, w, f):
    X = np.asarray(X, dtype=np.float64).reshape(-1, 2)
    return X[:, 1] - w * f(X[:, 0])


def cost(X, y, w, f):
    """Mean binary cross-entropy of ``sigmoid(y - w·f(x))`` against the labels (computed stably)."""
    s = _score(X, w, f)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    return float(np.mean(np.logaddexp(0.0, -s) * y + np.logaddexp(0.0, s) * (1 - y)))


def slope(X, y, w, f):
    """d(cost)/dw = mean((sigmoid(score) - label) * -f(x)); it grows with w (the cost is convex)."""
    X = np.asarray(X, dtype=np.float64).reshape(-1, 2)
    y_hat = 0.5 * (1 + np.tanh(0.5 * _score(X, w, f)))  # sigmoid, without overflow
    return float(np.mean((y_hat - np.asarray(y).reshape(-1)) * -f(X[:, 0])))


def best_weight(X, y, f, tol=1e-7):
    """The ``w`` where the slope of the cost is 0: bisection between a negative and a positive slope."""
    lo, hi = -1.0, 1.0
    while slope(X, y, lo, f) > 0:
        lo *= 2
    while slope(X, y, hi, f) < 0:
        hi *= 2
    while hi - lo > tol:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if slope(X, y, mid, f) < 0 else (lo, mid)
    return (lo + hi) / 2


def fit_family(name, train, test):
    """Train family ``name`` (a key of :data:`FAMILIES`) on ``train = (X, y)``; evaluate on ``test``."""
    f = FAMILIES[name]
    (X, y), (X_test, y_test) = train, test
    w = best_weight(X, y, f)

    def wrong(X_, y_):
        X_ = np.asarray(X_).reshape(-1, 2)
        return X_[(_score(X_, w, f) >= 0) != (np.asarray(y_).reshape(-1) == 1)]

    wrong_train, wrong_test = wrong(X, y), wrong(X_test, y_test)
    return FamilyFit(name, w, cost(X, y, w, f), 1 - len(wrong_train) / len(X),
                     1 - len(wrong_test) / len(X_test), wrong_train, wrong_test)


def compare_families(train, test, names=tuple(FAMILIES)):
    """The best member of each family on the same data: ``{name: FamilyFit}``."""
    return {name: fit_family(name, train, test) for name in names}


def bend(X, m=2.0, c=0.1):
    """Move toy points so that their dividing line ``y = m·x`` becomes the parabola ``y = c·x²``.

    Each point keeps its vertical distance from the dividing curve (and so its label): the same data
    set, but one where the parabola family is the right choice.
    """
    X = np.array(X, dtype=np.float32).reshape(-1, 2)
    X[:, 1] += c * X[:, 0] ** 2 - m * X[:, 0]
    return X
