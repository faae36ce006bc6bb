"""The lean step: gather, forward, backward, statistics and one SGD update of all parameters in three C calls."""
import ctypes

import mxnet as mx
import numpy as np
from mxnet import gluon, nd
from mxnet.base import _LIB, NDArrayHandle, c_handle_array, c_str, c_str_array, check_call, mx_uint

from ..errors import MxdlError
from .bound import _NetWithLoss
from .sgd import SGDTrainer

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
        self._params = dict(params)
        self._num_params = ctypes.c_int(len(params))
        self._keys = c_str_array(list(params))
        self._values = c_str_array([str(value) for value in params.values()])

    def set(self, name, value):
        """Give parameter ``name`` a new ``value`` for the calls that follow (a schedule's learning rate)."""
        if self._params[name] != value:
            self._params[name] = value
            self._values = c_str_array([str(v) for v in self._params.values()])

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
        if size not in self._updates:  # (one call a batch size; a schedule changes only its lr)
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
            self._updates[size] = call
        call = self._updates[size]
        call.set("lr", lr)
        return call

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
