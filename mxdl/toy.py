"""The talk's toy data: circles below the line y = m·x, diamonds on or above it.

Each input is a point ``(x, y)``; ``X`` has shape (N, 2) with columns ``x`` and ``y``, and the label
is ``CIRCLE = 0`` (below the line: ``y < m·x``) or ``DIAMOND = 1`` (on or above it: ``y >= m·x``).
The true slope is ``m = 2``: the "2" that the model ``y = w·x`` has to learn.  The slide's table is
labelled by this rule: (2, 1) is a circle, (2, 4) a diamond (it lies exactly on y = 2x), (4, 10) a
diamond.

The points come in mirror pairs ``(x, m·x + d)`` / ``(x, m·x - d)`` with ``d = margin + U(0, spread)``:
the classes are separated by a band of half-width ``margin`` around the line, and because every
diamond has a circle at the same distance below the line (the train/test split keeps pairs together)
the cost's minimum sits exactly at ``w = m`` on each split.
"""
import dataclasses

import numpy as np

from .errors import DataError

CIRCLE = 0
DIAMOND = 1
CLASS_NAMES = {CIRCLE: "circle", DIAMOND: "diamond"}

# The slide's table: (x, y) -> shape.
SLIDE_TABLE = (((2.0, 1.0), CIRCLE), ((2.0, 4.0), DIAMOND), ((4.0, 10.0), DIAMOND))

MIN_POINTS = 4  # two pairs: one for training, one for testing


@dataclasses.dataclass
class ToyData:
    """A train/test split of circles and diamonds, and the rule that labelled them."""

    X_train: np.ndarray  # (N_train, 2) float32, columns x, y
    y_train: np.ndarray  # (N_train,) float32, 0 = circle, 1 = diamond
    X_test: np.ndarray
    y_test: np.ndarray
    m: float  # the true slope of the dividing line y = m·x

    @property
    def train(self):
        """``(X_train, y_train)``, the pair :func:`mxdl.train.fit` takes."""
        return self.X_train, self.y_train

    @property
    def test(self):
        """``(X_test, y_test)``."""
        return self.X_test, self.y_test


def label(X, m=2.0):
    """The rule: 1 (diamond) where ``y >= m·x``, 0 (circle) below the line.  ``X`` is (N, 2)."""
    X = np.asarray(X, dtype=np.float64).reshape(-1, 2)
    return (X[:, 1] >= m * X[:, 0]).astype(np.float32)


def make_toy(n=300, *, m=2.0, margin=3.0, spread=2.0, x_max=20.0, test_fraction=0.2, seed=0):
    """``n`` circles and diamonds around the line y = m·x, split into train and test; see the module doc.

    ``x`` is uniform in [0, x_max]; each point lies ``margin + U(0, spread)`` above (diamond) or below
    (circle) the line.  ``n`` is rounded down to an even number (points come in pairs); about
    ``test_fraction`` of the pairs go to the test set.  The same ``seed`` gives the same data.
    """
    if not isinstance(n, (int, np.integer)) or n < MIN_POINTS:
        raise DataError(f"the toy data needs at least {MIN_POINTS} points (n), got {n!r}")
    if not 0 < test_fraction < 1:
        raise DataError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction!r}")
    if margin <= 0 or spread < 0 or x_max <= 0:
        raise DataError(f"margin and x_max must be > 0 and spread >= 0, got margin={margin!r}, "
                        f"spread={spread!r}, x_max={x_max!r}")
    rng = np.random.RandomState(seed)
    num_pairs = n // 2
    x = rng.uniform(0.0, x_max, num_pairs)
    d = margin + rng.uniform(0.0, spread, num_pairs)  # distance of both points of a pair from the line
    num_test = min(max(1, int(round(num_pairs * test_fraction))), num_pairs - 1)
    pairs = rng.permutation(num_pairs)

    def points(idx):
        diamonds = np.stack([x[idx], m * x[idx] + d[idx]], axis=1)
        circles = np.stack([x[idx], m * x[idx] - d[idx]], axis=1)
        X = np.concatenate([diamonds, circles]).astype(np.float32)
        y = np.concatenate([np.full(len(idx), DIAMOND), np.full(len(idx), CIRCLE)]).astype(np.float32)
        order = rng.permutation(len(X))  # mix the classes, so that SGD does not see all diamonds first
        return X[order], y[order]

    X_train, y_train = points(pairs[num_test:])
    X_test, y_test = points(pairs[:num_test])
    return ToyData(X_train, y_train, X_test, y_test, float(m))
