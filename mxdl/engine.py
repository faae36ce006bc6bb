"""The engine: :func:`mxdl.train.fit`'s steps other than the talk's loop, behind one small interface.

The talk's loop is :func:`mxdl.train.train_epoch`; read it first.  This module does the same maths
with the overheads taken out, and it is what ``fit`` runs unless told ``fast=False``.  A *step*
(what :func:`make_step` returns) has three methods:

* ``begin_epoch(X, y, order)`` -- the epoch's data on the device, visited in ``order`` (or as stored);
* ``step(start, stop)`` -- one update from samples ``start:stop`` of that order: forward, backward
  and ``trainer.step(size)``;
* ``totals()`` -- ``(summed loss, number right)`` since ``begin_epoch``; the only host sync.

Two kinds:

* :class:`BoundStep` (one device, a HybridBlock net and loss, argmax labels): net and loss in one
  graph (:class:`_NetWithLoss`) that also counts right answers, bound once as an MXNet executor, so
  forward and backward are one call each (``autograd.backward`` rebuilds its graph every step);
* :class:`AutogradStep` (everything else: several devices, a ``dist_*`` kvstore, a custom
  ``to_label``, ``hybridize=False``, a net whose shapes are not known yet): autograd on each device's
  part of the batch (:mod:`mxdl.distributed.parallel`), gradients summed by the kvstore, the batch's
  loss and right answers kept on the device until the next host sync.

With ``fast=False`` on one device ``make_step`` returns None and ``fit`` runs the talk's loop itself.
:class:`SGDTrainer` is the lean plain-SGD update.  What each piece is worth is measured in
bench/README.md; that the maths is the same, in tests/test_fast_path.py.
"""
import mxnet as mx
import numpy as np
from mxnet import autograd, gluon, nd

from .distributed import parallel


class _NetWithLoss(gluon.HybridBlock):
    """``net`` and ``loss_fn`` in one graph, so that a hybridized step is one call per batch.

    It returns ``(loss, y_hat)``; with ``count_correct`` (the default ``to_label``, argmax) it
    returns ``(summed loss, number of right answers)`` of the batch instead, both computed in the
    graph, so that a training step needs no operator calls besides the graph, its backward pass and
    the update.  The gradient of the summed loss is the same sum of per-sample gradients that
    backward of the per-sample losses computes.
    """

    def __init__(self, net, loss_fn, count_correct=False):
        super().__init__(prefix="")
        self._count_correct = count_correct
        with self.name_scope():
            self.net = net
            self.loss_fn = loss_fn

    def hybrid_forward(self, F, X, y):  # pylint: disable=arguments-differ
        y_hat = self.net(X)
        loss = self.loss_fn(y_hat, y)
        if not self._count_correct:
            return loss, y_hat
        correct = F.reshape(F.argmax(y_hat, axis=1), shape=(-1,)) == F.reshape(y, shape=(-1,))
        return F.sum(loss), F.sum(correct)


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


def make_step(net, loss_fn, trainer, ctxs, kvstore, *, to_label, count_correct, hybridize, fast,
              batch_size):
    """The engine's step for this training run, or None where :func:`mxdl.train.train_epoch` runs.

    One device: :class:`BoundStep` when it can, else :class:`AutogradStep`; None with ``fast=False``.
    Several devices or a ``dist_*`` kvstore: always :class:`AutogradStep` (the talk's loop is a
    one-device loop).  ``count_correct``: ``to_label`` is argmax, so the graph can count right answers.
    """
    scale_out = len(ctxs) > 1 or parallel.is_distributed(kvstore)
    if not (fast or scale_out):
        return None
    if not scale_out and hybridize and count_correct and BoundStep.usable(net, loss_fn, ctxs[0]):
        return BoundStep(net, loss_fn, trainer, ctxs[0])
    return AutogradStep(net, loss_fn, trainer, ctxs, kvstore, to_label=to_label, hybridize=hybridize,
                        count_correct=count_correct, batch_size=batch_size)


class BoundStep:
    """A training step run by an MXNet executor bound once: forward and backward are one call each.

    The fast path of :func:`mxdl.train.fit` in the common case (one device, a HybridBlock net and
    loss, the default argmax labels, ``hybridize=True``).  ``autograd.backward`` rebuilds its
    backward graph at every step, about 0.1 ms of Python and C++ per batch -- more than the maths of
    a small net; an executor plans forward and backward once.  It reads and writes the Parameters'
    own arrays (data and gradients), so ``trainer.step`` updates them exactly as after
    ``autograd.backward``.  Each batch is gathered straight into the executor's input arrays, and
    the batch's summed loss and number of right answers are added to the totals on the device (no
    host sync).
    """

    def __init__(self, net, loss_fn, trainer, ctx):
        model = _NetWithLoss(net, loss_fn, count_correct=True)
        model.hybridize(static_alloc=True, static_shape=True)
        loss_sum, correct = model(mx.sym.var("data"), mx.sym.var("label"))
        # make_loss: backward starts from d(summed loss) = 1, as autograd.backward(summed loss) does.
        stats = mx.sym.concat(mx.sym.reshape(loss_sum, shape=(1,)), mx.sym.reshape(correct, shape=(1,)),
                              dim=0)
        self._symbol = mx.sym.Group([mx.sym.make_loss(loss_sum), mx.sym.BlockGrad(stats)])
        self._trainer, self._ctx = trainer, ctx
        self._params = {param.name: param for param in model.collect_params().values()}
        self._executors = {}  # batch size -> executor (the short last batch gets its own)
        # The Trainer refuses a gradient that backward did not write: mark them as autograd does.
        self._weights = [p.data(ctx) for p in self._params.values() if p.grad_req != "null"]
        self._totals = nd.zeros(2, ctx=ctx)  # (summed loss, number right) since begin_epoch
        self._data = None

    @staticmethod
    def usable(net, loss_fn, ctx):
        """Whether ``net`` and ``loss_fn`` can be bound (HybridBlocks whose shapes are known)."""
        if not (isinstance(net, gluon.HybridBlock) and isinstance(loss_fn, gluon.HybridBlock)):
            return False
        try:
            for param in net.collect_params().values():
                param.data(ctx)
        except gluon.parameter.DeferredInitializationError:  # shapes known only after a forward pass
            return False
        return True

    def _executor(self, size, X, y):
        if size not in self._executors:
            args = {"data": nd.zeros((size,) + X.shape[1:], ctx=self._ctx),
                    "label": nd.zeros((size,) + y.shape[1:], ctx=self._ctx)}
            grads, grad_req = {}, {"data": "null", "label": "null"}
            for name in self._symbol.list_arguments():
                if name in self._params:
                    param = self._params[name]
                    args[name] = param.data(self._ctx)
                    grad_req[name] = param.grad_req
                    if param.grad_req != "null":
                        grads[name] = param.grad(self._ctx)
            aux = {name: self._params[name].data(self._ctx)
                   for name in self._symbol.list_auxiliary_states()}
            shared = next(iter(self._executors.values()), None)
            self._executors[size] = self._symbol.bind(self._ctx, args, args_grad=grads,
                                                      grad_req=grad_req, aux_states=aux,
                                                      shared_exec=shared)
        return self._executors[size]

    def begin_epoch(self, X, y, order):
        self._data = (X, y if order is None else nd.take(y, order), order)
        self._totals[:] = 0

    def step(self, start, stop):
        """Forward and backward of samples ``start:stop`` into the gradients, then the update."""
        X, y, order = self._data
        executor = self._executor(stop - start, X, y)
        data, label = executor.arg_dict["data"], executor.arg_dict["label"]
        if order is None:
            X[start:stop].copyto(data)
        else:
            nd.take(X, order[start:stop], out=data)
        y[start:stop].copyto(label)
        executor.forward(is_train=True)
        executor.backward()
        for weight in self._weights:
            weight._fresh_grad = True
        self._totals += executor.outputs[1]
        self._trainer.step(stop - start)  # the mean gradient of the samples actually in this batch

    def totals(self):
        loss_sum, correct = self._totals.asnumpy().tolist()
        return loss_sum, correct


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


def run_epoch(step, X, y, order, batch_size, *, accuracy, sync_every, on_sync):
    """One pass over ``(X, y)`` in ``order`` with the engine's ``step``; returns ``(cost, accuracy,
    updates)`` as :func:`mxdl.train.train_epoch` does (accuracy nan unless ``accuracy``).  Every
    ``sync_every`` batches and at the end, ``on_sync(running cost, samples seen)`` (the progress bar,
    the divergence check): the host waits for the device only then."""
    n = len(X)
    num_batches = -(-n // batch_size)
    step.begin_epoch(X, y, order)
    loss_sum = correct = 0.0
    for i in range(num_batches):
        start, stop = i * batch_size, min((i + 1) * batch_size, n)
        step.step(start, stop)
        if (i + 1) % sync_every == 0 or i + 1 == num_batches:
            loss_sum, correct = step.totals()
            on_sync(loss_sum / stop, stop)
    return loss_sum / n, correct / n if accuracy else float("nan"), num_batches


class SGDTrainer(gluon.Trainer):
    """``gluon.Trainer`` whose plain-SGD update is one ``sgd_update`` call per parameter.

    Gluon's update goes through its Updater and Optimizer classes, about 15-35 us of Python per
    parameter and step, which for a small net costs more than the update itself.  In the common
    case -- the ``sgd`` optimizer without momentum, float32 weights on one device, no kvstore --
    this class calls the same operator directly, with the learning rate, weight decay, gradient
    scale and clipping the optimizer would use, and keeps the optimizer's update counts (so that
    learning-rate schedules still work).  Every other case is Gluon's own ``_update``.
    """

    def _update(self, ignore_stale_grad=False):
        optimizer = self._optimizer
        if not self._plain_sgd():
            return super()._update(ignore_stale_grad)
        kwargs = {"rescale_grad": optimizer.rescale_grad}
        if optimizer.clip_gradient is not None:
            kwargs["clip_gradient"] = optimizer.clip_gradient
        for i, param in enumerate(self._params):
            if param.grad_req == "null":
                continue
            weight, grad = param._data[0], param._grad[0]
            if not weight._fresh_grad:
                if ignore_stale_grad:
                    continue
                raise UserWarning(f"Gradient of Parameter `{param.name}` on context {weight.context} "
                                  "has not been updated by backward since last `step`: call step "
                                  "with ignore_stale_grad=True to skip such parameters")
            optimizer._update_count(i)
            nd.sgd_update(weight, grad, out=weight, lr=optimizer._get_lr(i), wd=optimizer._get_wd(i),
                          **kwargs)
            weight._fresh_grad = False
        return None

    def _plain_sgd(self):
        optimizer = self._optimizer
        return (type(optimizer) is mx.optimizer.SGD and optimizer.momentum == 0
                and self._kvstore is None and getattr(self, "_amp_loss_scaler", None) is None
                and all(len(p._data) == 1 and p._data[0].dtype == np.float32 and p._stype == "default"
                        and p._grad_stype == "default" for p in self._params if p.grad_req != "null"))
