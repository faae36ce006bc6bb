"""Epochs, hyperparameters and the slide's mini-batch arithmetic: 100 samples, batch 5, 20 updates.

*Epoch* (slide "Cost"): one loop over all the inputs of the training data.  An epoch of gradient
descent is 1 update; of SGD, N updates (one per sample); of mini-batch SGD with batch size b,
``ceil(N / b)`` updates -- the last batch is shorter when b does not divide N, and it is kept.

*Hyperparameters* (slide "Hyperparameters"): the settings of the algorithm rather than weights of the
model; training does not learn them, we choose them.  The talk names three, :data:`HYPERPARAMETERS`.

:func:`batch_sizes` and :func:`updates_per_epoch` are the arithmetic; :func:`mxdl.train.fit` does the
same (``History.column('updates')``) and the tests check that the two agree.
"""
from .errors import MxdlError

HYPERPARAMETERS = {
    "lr": "learning rate: the step size eta of w <- w - eta * gradient",
    "num_epochs": "number of epochs: how many times the loop goes over all the training data",
    "batch_size": "batch size: samples per update (N: gradient descent, 1: SGD, b: mini-batch SGD)",
}

# The slide's example: "if we have 100 training samples and mini-batch size is 5, we will have 20
# updates per epoch".
SLIDE_EXAMPLE = {"num_samples": 100, "batch_size": 5, "updates_per_epoch": 20}


def _check(num_samples, batch_size):
    if not isinstance(num_samples, int) or num_samples < 1:
        raise MxdlError(f"the number of samples must be an integer >= 1, got {num_samples!r}")
    if batch_size is not None and (not isinstance(batch_size, int) or not 1 <= batch_size):
        raise MxdlError(f"the batch size must be an integer >= 1 (or None for all samples), "
                        f"got {batch_size!r}")


def batch_sizes(num_samples, batch_size=None):
    """The size of each batch of one epoch, in order: ``batch_sizes(100, 5)`` is twenty 5s.

    ``batch_size`` None (or >= N) is gradient descent: one batch of all N samples.
    """
    _check(num_samples, batch_size)
    b = num_samples if batch_size is None else min(batch_size, num_samples)
    return [min(b, num_samples - start) for start in range(0, num_samples, b)]


def updates_per_epoch(num_samples, batch_size=None):
    """``ceil(N / batch_size)``: how many times the weights change in one epoch."""
    return len(batch_sizes(num_samples, batch_size))


def algorithm(num_samples, batch_size=None):
    """Which of the talk's three algorithms a batch size makes: 'gradient descent', 'SGD' or
    'mini-batch SGD'."""
    _check(num_samples, batch_size)
    if batch_size is None or batch_size >= num_samples:
        return "gradient descent"
    return "SGD" if batch_size == 1 else "mini-batch SGD"


def describe(num_samples, batch_size=None, num_epochs=1):
    """One sentence of the arithmetic, e.g. for the slide's example::

        100 samples, batch size 5 (mini-batch SGD): 20 updates per epoch, 20 in 1 epoch
    """
    sizes = batch_sizes(num_samples, batch_size)
    short = f" (the last one {sizes[-1]} samples)" if sizes[-1] != sizes[0] else ""
    per_epoch = len(sizes)
    return (f"{num_samples} samples, batch size {sizes[0]} ({algorithm(num_samples, batch_size)}): "
            f"{per_epoch} updates per epoch{short}, {per_epoch * num_epochs} in {num_epochs} "
            f"epoch{'s' if num_epochs != 1 else ''}")


def total_updates(num_samples, batch_size, num_epochs):
    """Updates in a whole run: ``num_epochs * ceil(N / batch_size)``."""
    if not isinstance(num_epochs, int) or num_epochs < 1:
        raise MxdlError(f"the number of epochs must be an integer >= 1, got {num_epochs!r}")
    return num_epochs * updates_per_epoch(num_samples, batch_size)


def mnist_epoch(batch_size=64, num_samples=60000):
    """The demo's epoch on full MNIST: ``ceil(60000 / 64) = 938`` updates."""
    return updates_per_epoch(num_samples, batch_size)


__all__ = ["HYPERPARAMETERS", "SLIDE_EXAMPLE", "batch_sizes", "updates_per_epoch", "algorithm",
           "describe", "total_updates", "mnist_epoch"]
