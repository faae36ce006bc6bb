"""When training has diverged: the rule :func:`mxdl.train.fit` applies after every epoch (and at
every host sync of the fast path).

Lesson: gradient descent with a step size that suits the cost's curvature lowers the cost; SGD's
noisy steps lower it on average.  A learning rate that is too high makes every step overshoot the
minimum by more than the last, so the cost grows geometrically: it becomes NaN or inf (float32
overflows), or -- just as surely diverged, though still a finite number -- it ends orders of
magnitude above where training started (mlp at lr 30 ends an epoch at 1e17, at chance accuracy).

The rule: the cost of an epoch (the mean loss over its samples) must be finite and at most
:data:`FACTOR` times the cost of the initial net (measured on the first training samples before
the first update).  Noisy but working learning rates stay far below that: in mxdl's own runs the
first epoch's cost reaches at most ~70 times the start (logreg at lr 100, which still learns);
diverging ones pass 1000 times within the first epoch (logreg at lr 1e6: ~1.7 million times;
mlp at lr 3: ~40 000 times).
"""
import math

from .errors import DivergedError

FACTOR = 1000.0  # three orders of magnitude above the initial cost: diverged
FLOOR = 1e-6  # an initial cost below this (a net that already fits) counts as this much


def check_cost(cost, epoch, initial_cost=None):
    """Raise :class:`DivergedError` if ``cost`` (epoch ``epoch``) is NaN/inf or has exploded."""
    advice = ("the learning rate is too high for this model and data; try a lower one "
              "(e.g. a tenth of it)")
    if not math.isfinite(cost):
        raise DivergedError(f"the cost became {cost} in epoch {epoch}: {advice}")
    if initial_cost is not None and math.isfinite(initial_cost):
        start = max(initial_cost, FLOOR)
        if cost > FACTOR * start:
            raise DivergedError(f"the cost became {cost:.4g} in epoch {epoch}, {cost / start:.3g} "
                                f"times the cost {initial_cost:.4g} training started from (more "
                                f"than {FACTOR:g} times: it diverged): {advice}")
