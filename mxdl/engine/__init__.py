"""The engine: :func:`mxdl.train.fit`'s steps other than the talk's loop, behind one small interface.

The talk's loop is :func:`mxdl.train.train_epoch`; read it first.  This module does the same maths
with the overheads taken out, and it is what ``fit`` runs unless told ``fast=False``.  A *step*
(what :func:`make_step` returns) has three methods:

* ``begin_epoch(X, y, order)`` -- the epoch's data on the device, visited in ``order`` (or as stored);
* ``step(start, stop)`` -- one update from samples ``start:stop`` of that order: forward, backward
  and ``trainer.step(size)``;
* ``totals()`` -- ``(summed loss, number right)`` since ``begin_epoch``; the only host sync;

and optionally ``end_epoch()``, which :func:`run_epoch` calls last (also after an error).

Three kinds:

* :class:`LeanStep` (one device, a HybridBlock net and loss, argmax labels, Gluon's plain ``sgd``
  with or without momentum and weight decay): the whole step -- gathering the batch, forward,
  backward, running statistics and one update of all parameters -- in three C calls;
* :class:`BoundStep` (the same, for any other optimizer): net and loss in one
  graph (:class:`_NetWithLoss`) that also counts right answers, bound once as an MXNet executor, so
  forward and backward are one call each (``autograd.backward`` rebuilds its graph every step);
* :class:`AutogradStep` (everything else: several devices, a ``dist_*`` kvstore, a custom
  ``to_label``, ``hybridize=False``, a net whose shapes are not known yet): autograd on each device's
  part of the batch (:mod:`mxdl.distributed.parallel`), gradients summed by the kvstore, the batch's
  loss and right answers kept on the device until the next host sync.

With ``fast=False`` on one device ``make_step`` returns None and ``fit`` runs the talk's loop itself.
:class:`SGDTrainer` is the lean plain-SGD update.  What each piece is worth is measured in
bench/README.md; that the maths is the same, in tests/test_fast_path.py.

The package, one module per concept: :mod:`.bound` (:class:`_NetWithLoss`, :class:`BoundStep`),
:mod:`.lean` (:class:`LeanStep`), :mod:`.autograd_step` (:class:`AutogradStep`), :mod:`.sgd`
(:class:`SGDTrainer`); this module is the step interface (:func:`make_step`, :func:`run_epoch`)
and re-exports the four step and trainer classes.
"""
from ..distributed import parallel
from .autograd_step import AutogradStep
from .bound import BoundStep
from .lean import LeanStep
from .sgd import SGDTrainer


def make_step(net, loss_fn, trainer, ctxs, kvstore, *, to_label, count_correct, hybridize, fast,
              batch_size):
    """The engine's step for this training run, or None where :func:`mxdl.train.train_epoch` runs.

    One device: :class:`LeanStep` for plain SGD, else :class:`BoundStep` when it can, else
    :class:`AutogradStep`; None with ``fast=False``.
    Several devices or a ``dist_*`` kvstore: always :class:`AutogradStep` (the talk's loop is a
    one-device loop).  ``count_correct``: ``to_label`` is argmax, so the graph can count right answers.
    """
    scale_out = len(ctxs) > 1 or parallel.is_distributed(kvstore)
    if not (fast or scale_out):
        return None
    if not scale_out and hybridize and count_correct and BoundStep.usable(net, loss_fn, ctxs[0]):
        if LeanStep.usable(net, trainer, ctxs[0]):
            return LeanStep(net, loss_fn, trainer, ctxs[0], batch_size)
        return BoundStep(net, loss_fn, trainer, ctxs[0])
    return AutogradStep(net, loss_fn, trainer, ctxs, kvstore, to_label=to_label, hybridize=hybridize,
                        count_correct=count_correct, batch_size=batch_size)


def run_epoch(step, X, y, order, batch_size, *, accuracy, sync_every, on_sync):
    """One pass over ``(X, y)`` in ``order`` with the engine's ``step``; returns ``(cost, accuracy,
    updates)`` as :func:`mxdl.train.train_epoch` does (accuracy nan unless ``accuracy``).  Every
    ``sync_every`` batches and at the end, ``on_sync(running cost, samples seen)`` (the progress bar,
    the divergence check): the host waits for the device only then."""
    n = len(X)
    num_batches = -(-n // batch_size)
    step.begin_epoch(X, y, order)
    loss_sum = correct = 0.0
    try:
        for i in range(num_batches):
            start, stop = i * batch_size, min((i + 1) * batch_size, n)
            step.step(start, stop)
            if (i + 1) % sync_every == 0 or i + 1 == num_batches:
                loss_sum, correct = step.totals()
                on_sync(loss_sum / stop, stop)
    finally:
        end_epoch = getattr(step, "end_epoch", None)
        if end_epoch is not None:  # (LeanStep: its flat copies of the parameters go back)
            end_epoch()
    return loss_sum / n, correct / n if accuracy else float("nan"), num_batches
