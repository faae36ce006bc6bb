"""The general step: autograd on each device's part of the batch, for what the bound steps cannot do."""
from mxnet import autograd, gluon, nd

from ..distributed import parallel
from .bound import _NetWithLoss


class _NetWithLossImperative(gluon.Block):
    """The same for a plain (non-hybrid) ``Block``."""

    def __init__(self, net, loss_fn):
        super().__init__(prefix="")
        with self.name_scope():
            self.net = net
            self.loss_fn = loss_fn

    def forward(self, X, y):  # pylint: disable=arguments-differ
        y_hat = self.net(X)
        return self.loss_fn(y_hat, y), y_hat


def _gather(X, order, start, stop):
    """Samples ``start:stop`` of this epoch's pass: ``X[order[start:stop]]``, or ``X[start:stop]``."""
    return X[start:stop] if order is None else nd.take(X, order[start:stop])


class AutogradStep:
    """One update through autograd, on one or several devices, or as one worker of a dist job."""

    def __init__(self, net, loss_fn, trainer, ctxs, kvstore, *, to_label, hybridize, count_correct,
                 batch_size):
        if isinstance(net, gluon.HybridBlock) and isinstance(loss_fn, gluon.HybridBlock):
            self._model = _NetWithLoss(net, loss_fn, count_correct)
            if hybridize:
                self._model.hybridize(static_alloc=True, static_shape=True)
        else:
            self._model = _NetWithLossImperative(net, loss_fn)
        self._in_graph = isinstance(self._model, _NetWithLoss) and count_correct
        self._trainer, self._ctxs, self._to_label = trainer, ctxs, to_label
        self._batch_size = batch_size
        self._num_workers = parallel.worker_rank(kvstore)[1] if parallel.is_distributed(kvstore) else None
        self._data = None
        self._loss_total = self._correct_total = 0.0

    def begin_epoch(self, X, y, order):
        self._data = (X, y if order is None else nd.take(y, order), order)
        # Per device, the batches' summed losses and right answers since the last host sync: kept as
        # they come (no operator call per batch), added up by one add_n at the sync.
        self._pending_loss = [[] for _ in self._ctxs]
        self._pending_correct = [[] for _ in self._ctxs]
        self._loss_total = self._correct_total = 0.0

    def step(self, start, stop):
        X, y, order = self._data
        size = stop - start
        parts = parallel.split(_gather(X, order, start, stop), y[start:stop], self._ctxs)
        model = self._model
        with autograd.record():
            outputs = [model(X_part, y_part) for X_part, y_part in parts]
            idle = [model(X_part, y_part)[0] * 0
                    for X_part, y_part in parallel.idle_parts(parts, self._ctxs)]
        if self._num_workers is None:
            autograd.backward([loss for loss, _ in outputs] + idle)
            self._trainer.step(size)  # the mean gradient of the samples actually in this batch
        else:
            # A dist kvstore fixes the optimizer's 1/batch scale when it starts, so the step size
            # cannot change: weight a short batch's losses by batch_size/size instead, which gives
            # the same mean gradient over all workers' samples.
            weight = self._batch_size / size
            with autograd.record():  # (the weighting is part of the graph that backward walks)
                weighted = [loss * weight for loss, _ in outputs]
            autograd.backward(weighted + idle)
            self._trainer.step(self._batch_size * self._num_workers)
        for k, ((loss, out), (_, y_part)) in enumerate(zip(outputs, parts)):
            if self._in_graph:  # the graph returned (summed loss, number right)
                self._pending_loss[k].append(loss)
                self._pending_correct[k].append(out)
            else:  # it returned (the per-sample losses, y_hat)
                y_hat = out
                self._pending_loss[k].append(loss.sum())
                if self._to_label is not None:
                    self._pending_correct[k].append(
                        (self._to_label(y_hat).reshape((-1,)) == y_part.reshape((-1,))).sum())

    def totals(self):
        self._loss_total += _drain(self._pending_loss)
        self._correct_total += _drain(self._pending_correct)
        return self._loss_total, self._correct_total


def _drain(pending):
    """Add up, on the host, per-device lists of scalars, and empty them (one add_n per device)."""
    total = 0.0
    for values in pending:
        if values:
            total += float(nd.add_n(*values).asscalar())
            values.clear()
    return total
