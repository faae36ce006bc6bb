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
"""
import ctypes

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon, nd
from mxnet.base import _LIB, NDArrayHandle, c_handle_array, c_str, c_str_array, check_call, mx_uint

from .distributed import parallel
from .errors import MxdlError


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


_ONE = ctypes.c_int(1)
_NO_HEAD_GRADS = (mx_uint(0), ctypes.POINTER(NDArrayHandle)())
_MAX_EXACT_INDEX = 2 ** 24  # float32 counts every integer up to here exactly


class _OperatorCall:
    """One imperative operator call made ready once: ``_OperatorCall('sgd_update', [w, g], [w], {...})()``.

    The same C API call as ``nd.sgd_update(w, g, out=w, ...)``, without the Python wrapper's work
    on every call (argument checks, string conversions, output objects): about 3 us instead of 20.
    """

    def __init__(self, name, inputs, outputs, params):
        self._handle = ctypes.c_void_p()
        check_call(_LIB.NNGetOpHandle(c_str(name), ctypes.byref(self._handle)))
        self._arrays = (list(inputs), list(outputs))  # keeps the handles alive
        self._num_inputs, self._inputs = ctypes.c_int(len(inputs)), c_handle_array(inputs)
        self._num_outputs = ctypes.c_int(len(outputs))
        self._outputs = ctypes.cast(c_handle_array(outputs), ctypes.POINTER(NDArrayHandle))
        self._stypes = ctypes.POINTER(ctypes.c_int)()
        self._num_params = ctypes.c_int(len(params))
        self._keys = c_str_array(list(params))
        self._values = c_str_array([str(value) for value in params.values()])

    def __call__(self):
        check_call(_LIB.MXImperativeInvokeEx(
            self._handle, self._num_inputs, self._inputs, ctypes.byref(self._num_outputs),
            ctypes.byref(self._outputs), self._num_params, self._keys, self._values,
            ctypes.byref(self._stypes)))


class LeanStep:
    """The whole training step -- gather, forward, backward, statistics, update -- in three C calls.

    The fast path for plain SGD (with or without momentum and weight decay) on one device; the
    profile in bench/README.md ("SGD at batch 1") shows why: at batch 1 a step's fixed costs are all
    there is, and most of them were Python and operator calls around the maths.  Per step it makes
    exactly three calls into MXNet, straight through its C API: the executor's forward, its backward,
    and one SGD update for all parameters at once.

    * **The batch is gathered inside the graph.**  The executor is bound to the whole data set, to
      this epoch's order and to a counter; its first operators pick samples
      ``order[k*b : k*b + size]`` of step ``k`` out of X and y.
    * **The running statistics are kept by backward.**  A variable ``acc`` enters the graph as
      ``sum(acc * stats)`` with ``stats = (summed loss, number right, 1)`` (behind ``BlockGrad``,
      so no gradient reaches the net through them) and ``grad_req='add'``: every backward adds
      ``stats`` to ``d acc``, which is therefore the epoch's (summed loss, number right, steps) --
      and the steps are the counter above.  No operator call per step for the statistics.
    * **One update for all parameters.**  The executor reads and writes the weights and gradients
      as views of two flat arrays, so one ``sgd_update`` (``sgd_mom_update`` with momentum or
      weight decay) updates them all, with Gluon's own formula: the parameters come out bit for bit
      those of Gluon's Trainer (tests/test_fast_path.py).  At ``begin_epoch`` the Parameters'
      values (and momentum states) are copied into the flat arrays, at ``end_epoch`` back: between
      epochs the Parameters are plain arrays of their own, which evaluation, checkpoints and MKLDNN's
      inference layouts need.

    Memory: a second copy of the parameters and gradients (0.4 MB for the mlp), and the order.
    """

    def __init__(self, net, loss_fn, trainer, ctx, batch_size):
        self._model = _NetWithLoss(net, loss_fn, count_correct=True)
        self._trainer, self._ctx, self._batch_size = trainer, ctx, batch_size
        optimizer = trainer._optimizer
        self._params = [p for p in trainer._params if p.grad_req != "null"]
        self._indices = [i for i, p in enumerate(trainer._params) if p.grad_req != "null"]
        self._lr_mult = self._params[0].lr_mult  # the same for all (usable)
        shapes = [p.data(ctx).shape for p in self._params]
        sizes = [int(np.prod(shape)) for shape in shapes]
        self._weights = nd.zeros(sum(sizes), ctx=ctx)
        self._grads = nd.zeros(sum(sizes), ctx=ctx)
        self._states = nd.zeros(sum(sizes), ctx=ctx) if optimizer.momentum or optimizer.wd else None
        self._views, offset = [], 0
        for shape, size in zip(shapes, sizes):
            part = slice(offset, offset + size)
            self._views.append(tuple(None if flat is None else flat[part].reshape(shape)
                                     for flat in (self._weights, self._grads, self._states)))
            offset += size
        self._acc = nd.zeros(3, ctx=ctx)  # acc's value is never used; d acc is what counts
        self._counts = nd.zeros(3, ctx=ctx)  # d acc: (summed loss, number right, steps) this epoch
        self._order = None
        self._data = None
        self._executors, self._updates = {}, {}
        self._steps = 0

    @staticmethod
    def usable(net, trainer, ctx):
        """Whether this step can do ``trainer``'s update: Gluon's plain ``sgd`` on one device, every
        trained parameter float32 and dense, with the same learning-rate and weight-decay multipliers."""
        optimizer = trainer._optimizer
        if type(optimizer) is not mx.optimizer.SGD or getattr(trainer, "_amp_loss_scaler", None):
            return False
        # A Trainer that does its own step (e.g. Horovod's DistributedTrainer, whose gradient
        # allreduce is its _allreduce_grads) must make it: this step never calls trainer.step.
        kind = type(trainer)
        if (any(getattr(kind, name) is not getattr(gluon.Trainer, name)
                for name in ("step", "allreduce_grads", "_allreduce_grads", "update"))
                or kind._update not in (gluon.Trainer._update, SGDTrainer._update)):
            return False
        if not trainer._kv_initialized:
            trainer._init_kvstore()
        if trainer._kvstore is not None or trainer._update_on_kvstore:
            return False
        trained = [p for p in trainer._params if p.grad_req != "null"]
        ours = {id(p) for p in net.collect_params().values() if p.grad_req != "null"}
        if not trained or {id(p) for p in trained} != ours:
            return False
        return (all(p.grad_req == "write" and len(p._data) == 1 and p._data[0].dtype == np.float32
                    and p._stype == "default" and p._grad_stype == "default"
                    and p._data[0].context == ctx for p in trained)
                and len({(p.lr_mult, p.wd_mult) for p in trained}) == 1)

    def _executor(self, size):
        """The executor of a step of ``size`` samples (the short last batch gets its own)."""
        if size not in self._executors:
            X, y = self._data
            counts = mx.sym.var("_counts")
            start = mx.sym.slice_axis(counts, axis=0, begin=2, end=3) * self._batch_size
            index = mx.sym.take(mx.sym.var("_order"), mx.sym.broadcast_add(start, mx.sym.arange(0, size)))
            loss_sum, correct = self._model(mx.sym.take(mx.sym.var("_X"), index),
                                            mx.sym.take(mx.sym.var("_y"), index))
            # BlockGrad at the leaves: the statistics pass no gradient (not even zeros) to the net.
            stats = mx.sym.concat(mx.sym.reshape(mx.sym.BlockGrad(loss_sum), shape=(1,)),
                                  mx.sym.reshape(mx.sym.BlockGrad(correct), shape=(1,)),
                                  mx.sym.ones((1,)), dim=0)
            # make_loss: backward starts from d(summed loss) = 1, as autograd.backward(summed loss) does.
            symbol = mx.sym.Group([mx.sym.make_loss(loss_sum),
                                   mx.sym.make_loss(mx.sym.sum(mx.sym.var("_acc") * stats))])
            args = {"_counts": self._counts, "_order": self._order, "_X": X, "_y": y, "_acc": self._acc}
            grads, grad_req = {"_acc": self._counts}, {name: "null" for name in args}
            grad_req["_acc"] = "add"
            trained = {p.name: views for p, views in zip(self._params, self._views)}
            params = {p.name: p for p in self._model.collect_params().values()}
            for name in symbol.list_arguments():
                if name in trained:
                    args[name], grads[name], _ = trained[name]
                    grad_req[name] = "write"
                elif name in params:  # a parameter that is not trained (grad_req 'null')
                    args[name], grad_req[name] = params[name].data(self._ctx), "null"
            aux = {name: params[name].data(self._ctx) for name in symbol.list_auxiliary_states()}
            shared = next(iter(self._executors.values()), (None,))[0]
            executor = symbol.bind(self._ctx, args, args_grad=grads, grad_req=grad_req, aux_states=aux,
                                   shared_exec=shared)
            self._executors[size] = (executor, executor.handle)
        return self._executors[size][1]

    def _update(self, size, lr):
        """The one SGD update of all parameters after a step of ``size`` samples at learning rate ``lr``."""
        key = (size, lr)
        if key not in self._updates:
            optimizer = self._trainer._optimizer
            index = self._indices[0]
            params = {"lr": lr,
                      "wd": optimizer._get_wds([index])[0],
                      "rescale_grad": self._trainer._scale / size}
            if optimizer.clip_gradient:
                params["clip_gradient"] = optimizer.clip_gradient
            if self._states is None:  # w - lr*rescale*g: Gluon's multi_sgd_update with wd = 0, exactly
                call = _OperatorCall("sgd_update", [self._weights, self._grads], [self._weights], params)
            else:  # Gluon's multi_sgd(_mom)_update formula: mom = m*mom - lr*wd*w - lr*rescale*g; w += mom
                params["momentum"] = optimizer.momentum
                call = _OperatorCall("sgd_mom_update", [self._weights, self._grads, self._states],
                                     [self._weights], params)
            self._updates[key] = call
        return self._updates[key]

    def begin_epoch(self, X, y, order):
        if self._data is None or self._data[0] is not X or self._data[1] is not y:
            if len(X) >= _MAX_EXACT_INDEX:  # (the step counter is a float32)
                raise MxdlError(f"the fast path takes at most {_MAX_EXACT_INDEX - 1:,} training samples "
                                f"on one device, got {len(X):,}: train with fast=False")
            self._data, self._executors = (X, y), {}
            self._order = nd.zeros(len(X), ctx=self._ctx, dtype="int64")
            self._ordered = None
        if order is None:
            if self._ordered is not False:
                nd.arange(0, len(X), ctx=self._ctx, dtype="int64").copyto(self._order)
            self._ordered = False
        else:
            order.copyto(self._order)
            self._ordered = True
        self._counts[:] = 0
        self._steps = 0
        updater = self._trainer._updaters[0]
        for index, param, (weight, _, state) in zip(self._indices, self._params, self._views):
            param.data(self._ctx).copyto(weight)
            if self._trainer._optimizer.momentum:
                if index not in updater.states:
                    updater.states[index] = self._trainer._optimizer.create_state_multi_precision(
                        index, param.data(self._ctx))
                    updater.states_synced[index] = True
                updater.states[index].copyto(state)
        if self._states is not None and not self._trainer._optimizer.momentum:
            self._states[:] = 0  # (weight decay alone: sgd_mom_update with momentum 0 needs a zero state)

    def step(self, start, stop):
        size = stop - start
        if start != self._steps * self._batch_size:
            raise ValueError(f"LeanStep takes the epoch's batches in order: expected the batch at "
                             f"{self._steps * self._batch_size}, got {start}")
        handle = self._executor(size)
        optimizer = self._trainer._optimizer
        if optimizer.lr_scheduler is None:  # (lr * lr_mult, as Gluon's optimizer computes it)
            lr = optimizer.lr * self._lr_mult
        else:  # the schedule's learning rate for this update, as Gluon's update would compute it
            optimizer._update_count(self._indices)
            lr = optimizer._get_lrs(self._indices[:1])[0]
        check_call(_LIB.MXExecutorForward(handle, _ONE))
        check_call(_LIB.MXExecutorBackwardEx(handle, *_NO_HEAD_GRADS, _ONE))
        self._update(size, lr)()
        self._steps += 1
        self._last_size = size

    def totals(self):
        loss_sum, correct, _ = self._counts.asnumpy().tolist()
        return loss_sum, correct

    def end_epoch(self):
        """Copy the flat arrays back into the Parameters (values, gradients, momentum states)."""
        optimizer = self._trainer._optimizer
        updater = self._trainer._updaters[0]
        for index, param, (weight, grad, state) in zip(self._indices, self._params, self._views):
            weight.copyto(param.data(self._ctx))
            grad.copyto(param.grad(self._ctx))
            if optimizer.momentum:
                state.copyto(updater.states[index])
        if self._steps:
            optimizer.rescale_grad = self._trainer._scale / self._last_size
            if optimizer.lr_scheduler is None:  # the update counts Gluon's update would have kept
                for index in self._indices:
                    count = optimizer._index_update_count.get(index, optimizer.begin_num_update)
                    optimizer._index_update_count[index] = count + self._steps
                    optimizer.num_update = max(optimizer._index_update_count[index], optimizer.num_update)
        self._steps = 0


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
