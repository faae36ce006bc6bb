"""Training: gradient descent, SGD and mini-batch SGD as one loop whose only knob is ``batch_size``.

The talk's three optimisers are one algorithm, ``w <- w - lr * gradient of the cost on a batch``:

* ``batch_size=None`` (or N): gradient descent, one update per epoch;
* ``batch_size=1``: stochastic gradient descent, N updates per epoch;
* ``batch_size=b``: mini-batch SGD, ceil(N / b) updates per epoch.

The last, short batch is kept and ``trainer.step`` is told its true size, so every sample counts once
per epoch and every update is the mean gradient of the samples it saw.

The loop is also the fast path every script and notebook uses: the data set lives in NDArrays on the
device (each epoch shuffles only the order and the labels; each batch of X is gathered with one
``take``), the loss and the count of right answers are computed inside the same graph as the net,
that graph is bound once as an MXNet executor (:class:`_BoundStep`: one call for forward, one for
backward, instead of autograd rebuilding its graph every step), plain SGD updates each parameter
with one operator call (:class:`SGDTrainer`), and the host waits for the device only every
``sync_every`` batches (for the progress bar and the divergence check) and at the end of the epoch.
What each of these is worth is measured in bench/README.md; the maths is the same as a plain
imperative loop's (tests/test_fast_path.py).
Several contexts train data-parallel (``split_and_load`` + the Trainer's kvstore); a ``dist_*``
kvstore trains on this worker's shard of the data.
"""
import csv
import dataclasses
import io
import json
import math
import time

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon, nd

from .context import parse_ctx
from .distributed.horovod import refuse_horovod_kvstore
from .errors import DivergedError, MxdlError
from .utils import atomic_write


@dataclasses.dataclass
class EpochStats:
    """What one epoch (one pass over the training data) did."""

    epoch: int
    cost: float  # mean loss over the epoch's training samples, as seen during the epoch
    train_acc: float  # accuracy on the training batches as they were seen during the epoch
    test_acc: float  # accuracy on the test data after the epoch (nan when there is none)
    updates: int  # trainer steps this epoch: 1 for GD, N for SGD, ceil(N/b) for mini-batch
    seconds: float
    samples_per_sec: float


class History(list):
    """A list of :class:`EpochStats`, one per epoch, that printing, plotting and tests all consume."""

    fields = [f.name for f in dataclasses.fields(EpochStats)]

    def column(self, name):
        """All epochs' values of one field, e.g. ``history.column('cost')``."""
        if name not in self.fields:
            raise KeyError(f"no column {name!r}; columns are {', '.join(self.fields)}")
        return [getattr(stats, name) for stats in self]

    @property
    def last(self):
        """The last epoch's stats."""
        return self[-1]

    def to_dicts(self):
        return [dataclasses.asdict(stats) for stats in self]

    def to_csv(self, path):
        """Write one row per epoch to ``path`` (atomically)."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.fields)
        writer.writeheader()
        writer.writerows(self.to_dicts())
        with atomic_write(path, "w") as f:
            f.write(buffer.getvalue())

    def to_json(self, path):
        """Write the history as a JSON list of objects to ``path`` (atomically)."""
        text = json.dumps(self.to_dicts(), indent=2, allow_nan=True)
        with atomic_write(path, "w") as f:
            f.write(text + "\n")


def argmax_label(y_hat):
    """Multiclass prediction: the class with the highest score (``y_hat`` is batch x classes)."""
    return y_hat.argmax(axis=1)


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


class _BoundStep:
    """A training step run by an MXNet executor bound once: forward and backward are one call each.

    The fast path of :func:`fit` in the common case (one device, a HybridBlock net and loss, the
    default argmax labels, ``hybridize=True``).  ``autograd.backward`` rebuilds its backward graph at
    every step, about 0.1 ms of Python and C++ per batch -- more than the maths of a small net; an
    executor plans forward and backward once.  It reads and writes the Parameters' own arrays (data
    and gradients), so ``trainer.step`` updates them exactly as after ``autograd.backward``.  Each
    batch is gathered straight into the executor's input arrays, and the batch's summed loss and
    number of right answers are added to :attr:`totals` on the device (no host sync).
    """

    def __init__(self, model, ctx, X, y):
        loss_sum, correct = model(mx.sym.var("data"), mx.sym.var("label"))
        # make_loss: backward starts from d(summed loss) = 1, as autograd.backward(summed loss) does.
        stats = mx.sym.concat(mx.sym.reshape(loss_sum, shape=(1,)), mx.sym.reshape(correct, shape=(1,)),
                              dim=0)
        self._symbol = mx.sym.Group([mx.sym.make_loss(loss_sum), mx.sym.BlockGrad(stats)])
        self._ctx = ctx
        self._params = {param.name: param for param in model.collect_params().values()}
        self._shapes = X.shape[1:], y.shape[1:]
        self._executors = {}  # batch size -> executor (the short last batch gets its own)
        # The Trainer refuses a gradient that backward did not write: mark them as autograd does.
        self._weights = [p.data(ctx) for p in self._params.values() if p.grad_req != "null"]
        self.totals = nd.zeros(2, ctx=ctx)  # (summed loss, number right) since the last reset

    @staticmethod
    def usable(model, ctxs, num_workers, hybridize):
        """Whether ``fit`` can train ``model`` this way (else it takes the autograd path)."""
        if not (hybridize and isinstance(model, _NetWithLoss) and model._count_correct
                and len(ctxs) == 1 and num_workers is None):
            return False
        try:
            for param in model.collect_params().values():
                param.data(ctxs[0])
        except gluon.parameter.DeferredInitializationError:  # shapes known only after a forward pass
            return False
        return True

    def _executor(self, size):
        if size not in self._executors:
            args = {"data": nd.zeros((size,) + self._shapes[0], ctx=self._ctx),
                    "label": nd.zeros((size,) + self._shapes[1], ctx=self._ctx)}
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

    def run(self, X, y, order, start, stop):
        """Forward and backward of samples ``start:stop`` (of ``order``, if given) into the gradients."""
        executor = self._executor(stop - start)
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
        self.totals += executor.outputs[1]


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


def _check_hyperparameters(n, num_epochs, batch_size, lr):
    if n == 0:
        raise MxdlError("the training data is empty: give at least one sample")
    if not isinstance(num_epochs, (int, np.integer)) or num_epochs < 1:
        raise MxdlError(f"num_epochs must be an integer >= 1, got {num_epochs!r}")
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer))
                                   or not 1 <= batch_size <= n):
        raise MxdlError(f"batch_size must be an integer from 1 to the number of training samples "
                        f"({n}), or None for gradient descent; got {batch_size!r}")
    if not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise MxdlError(f"the learning rate must be a number > 0, got {lr!r}")


def _as_arrays(data, what):
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise MxdlError(f"{what} data must be an (X, y) pair")
    X, y = data
    X = X.asnumpy() if isinstance(X, nd.NDArray) else np.asarray(X)
    y = y.asnumpy() if isinstance(y, nd.NDArray) else np.asarray(y)
    if len(X) != len(y):
        raise MxdlError(f"{what} data has {len(X)} inputs X but {len(y)} labels y: they must match")
    return X, y


def _to_device(X, y, ctx):
    return nd.array(X, ctx=ctx, dtype="float32"), nd.array(y, ctx=ctx, dtype="float32")


def _wrap(net, loss_fn, hybridize, count_correct):
    if isinstance(net, gluon.HybridBlock) and isinstance(loss_fn, gluon.HybridBlock):
        model = _NetWithLoss(net, loss_fn, count_correct)
        if hybridize:
            model.hybridize(static_alloc=True, static_shape=True)
        return model
    return _NetWithLossImperative(net, loss_fn)


def _place_params(net, ctxs):
    params = net.collect_params()
    for param in params.values():
        if param.list_ctx() != ctxs:
            params.reset_ctx(ctxs)
            return


# With no kvstore each device's Trainer updates its own copy: the copies silently diverge.
_NO_KVSTORE = ("several devices need a kvstore to share gradients ('device' or 'local'); "
               "kvstore=None would train diverging copies")


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


def make_trainer(net, lr, *, momentum=0.0, wd=0.0, kvstore="device", ctxs=None):
    """The talk's optimiser: ``gluon.Trainer`` with plain ``sgd`` (optionally momentum and weight decay)."""
    refuse_horovod_kvstore(kvstore)
    ctxs = parse_ctx(ctxs) if ctxs is not None else net.collect_params().list_ctx()
    if len(ctxs) > 1 and kvstore is None:
        raise MxdlError(_NO_KVSTORE)
    optimizer_params = {"learning_rate": lr}
    if momentum:
        optimizer_params["momentum"] = momentum
    if wd:
        optimizer_params["wd"] = wd
    return SGDTrainer(net.collect_params(), "sgd", optimizer_params, kvstore=kvstore)


def _shard(X, y, kv):
    """This worker's equal-sized share of the data: samples rank, rank + M, rank + 2M, ... of M workers.

    Equal, so that dist_sync workers stay in step (the last ``N mod M`` samples are left out);
    interleaved, so that without shuffling step k of M workers with batch b sees exactly the
    samples of step k of one process with batch M * b.
    """
    per_worker = len(X) // kv.num_workers
    if per_worker == 0:
        raise MxdlError(f"{len(X)} training samples cannot be shared by {kv.num_workers} workers")
    used = per_worker * kv.num_workers
    return X[kv.rank:used:kv.num_workers], y[kv.rank:used:kv.num_workers]


def fit(net, loss_fn, train, test=None, *, num_epochs, batch_size, lr, ctx=None, momentum=0.0,
        wd=0.0, kvstore="device", shuffle=True, seed=None, to_label=argmax_label, hybridize=True,
        progress=False, trainer=None, on_epoch=None, sync_every=50):
    """Train ``net`` by minimising the mean of ``loss_fn`` over ``train = (X, y)``; return a :class:`History`.

    ``batch_size`` picks the algorithm (None/N: gradient descent, 1: SGD, b: mini-batch SGD).
    ``net`` must be initialised; ``ctx`` (default: where its parameters are) may list several devices
    for data-parallel training.  ``kvstore`` is the Trainer's (``'device'``, ``'local'``,
    ``'dist_sync'``, ``'dist_async'`` or a KVStore); with a ``dist_*`` kvstore each worker trains on
    its own shard, and the learning rate applies to the mean gradient of the global batch
    (``batch_size`` x number of workers).  ``seed`` fixes the shuffling order (default: numpy's global
    generator).  ``to_label`` maps the net's outputs to predicted labels (default: argmax); None
    means a regression, whose accuracies are nan.  ``on_epoch(stats)`` is called after every epoch.
    """
    X, y = _as_arrays(train, "training")
    if isinstance(kvstore, str) and kvstore.startswith("dist"):
        kvstore = mx.kv.create(kvstore)
    # With a dist_* kvstore this process is one of num_workers workers (None: no dist kvstore).
    num_workers = kvstore.num_workers if "dist" in getattr(kvstore, "type", "") else None
    if num_workers is not None:
        X, y = _shard(X, y, kvstore)
    n = len(X)
    _check_hyperparameters(n, num_epochs, batch_size, lr)
    batch_size = n if batch_size is None else int(batch_size)
    ctxs = parse_ctx(ctx) if ctx is not None else net.collect_params().list_ctx()
    _place_params(net, ctxs)
    if trainer is None:
        trainer = make_trainer(net, lr, momentum=momentum, wd=wd, kvstore=kvstore, ctxs=ctxs)
    else:
        refuse_horovod_kvstore(trainer._kvstore_params["kvstore"])  # (Gluon keeps it nowhere public)
        if len(ctxs) > 1 and trainer._kvstore_params["kvstore"] is None:
            raise MxdlError(_NO_KVSTORE)
    model = _wrap(net, loss_fn, hybridize, count_correct=to_label is argmax_label)
    bound = None
    if _BoundStep.usable(model, ctxs, num_workers, hybridize):
        bound = _BoundStep(model, ctxs[0], X, y)
    rng = np.random.RandomState(seed) if seed is not None else np.random
    # One copy of the data set on the device (on the first device when there are several:
    # split_and_load copies each batch's parts to the others).
    X_dev, y_dev = _to_device(X, y, ctxs[0])
    test_data = _as_arrays(test, "test") if test is not None else None
    history = History()
    order = np.arange(n)  # order[i]: the index in X of the i-th sample of this epoch's pass
    for epoch in range(1, num_epochs + 1):
        start = time.time()
        if shuffle:
            # The same order as reshuffling the data set in place every epoch.  Only the order and
            # the labels are permuted here; each batch of X is gathered with one `take` when it is
            # needed, which is much cheaper than copying the whole X into a shuffled array.
            order = order[rng.permutation(n)]
        cost, train_acc, updates = _train_epoch(
            model, trainer, X_dev, y_dev, batch_size, ctxs, to_label, num_workers,
            order=order if shuffle else None, bound=bound, epoch=epoch, progress=progress,
            sync_every=sync_every)
        seconds = time.time() - start
        test_acc = float("nan")
        if test_data is not None:
            test_acc = evaluate(net, *test_data, ctx=ctxs, to_label=to_label)[1]
        stats = EpochStats(epoch, cost, train_acc, test_acc, updates, seconds, n / seconds)
        history.append(stats)
        if on_epoch is not None:
            on_epoch(stats)
    return history


def _split(X_batch, y_batch, ctxs):
    """``[(X_part, y_part), ...]``, one part per device, for data-parallel training.

    A batch smaller than the number of devices (SGD, a short last batch) uses only the first
    ``size`` devices: ``split_and_load`` would otherwise make empty parts.  See :func:`_idle_parts`.
    """
    if len(ctxs) == 1:
        return [(X_batch, y_batch)]
    ctxs = ctxs[:X_batch.shape[0]]
    return list(zip(gluon.utils.split_and_load(X_batch, ctxs, even_split=False),
                    gluon.utils.split_and_load(y_batch, ctxs, even_split=False)))


def _idle_parts(parts, ctxs):
    """A one-sample stand-in batch for each device that got no part of this batch.

    Its loss is multiplied by 0, so it adds a zero gradient: the kvstore sums every device's
    gradient, and an idle device would otherwise contribute its stale one from the last batch (and
    the Trainer refuses stale gradients).
    """
    X_part, y_part = parts[0]
    return [(X_part[:1].as_in_context(c), y_part[:1].as_in_context(c)) for c in ctxs[len(parts):]]


def _diverged(epoch, value):
    return DivergedError(f"the cost became {value} in epoch {epoch}: the learning rate is too high for "
                         "this model and data; try a lower one (e.g. a tenth of it)")


def _train_epoch(model, trainer, X, y, batch_size, ctxs, to_label, num_workers, *, order, bound,
                 epoch, progress, sync_every):
    """One pass over (X, y) in ``order`` (None: as stored); returns (cost, train accuracy, updates).

    With ``bound`` (a :class:`_BoundStep`) each step is its executor's forward and backward;
    otherwise it is autograd's, on one or several devices (:func:`_autograd_step`).
    """
    # Imported here so that importing mxdl stays light.  Plain tqdm, not tqdm.auto: in a notebook
    # without ipywidgets, tqdm.auto warns in every cell that trains.
    from tqdm import tqdm

    n = len(X)
    num_batches = -(-n // batch_size)
    if order is not None:
        order = nd.array(order, ctx=X.context, dtype="int64")
        y = nd.take(y, order)
    # Per device, the batches' summed losses and right answers since the last host sync: kept as
    # they come (no operator call per batch), added up by one add_n at the sync.
    pending_loss, pending_correct = [[] for _ in ctxs], [[] for _ in ctxs]
    loss_total = correct_total = 0.0
    if bound is not None:
        bound.totals[:] = 0
    bar = tqdm(total=n, desc=f"epoch {epoch}", unit="sample", leave=False, disable=not progress,
               dynamic_ncols=True)
    seen = 0
    try:
        for i in range(num_batches):
            start, stop = i * batch_size, min((i + 1) * batch_size, n)
            size = stop - start
            if bound is not None:
                bound.run(X, y, order, start, stop)
                trainer.step(size)  # the mean gradient of the samples actually in this batch
            else:
                X_batch = X[start:stop] if order is None else nd.take(X, order[start:stop])
                _autograd_step(model, trainer, X_batch, y[start:stop], batch_size, ctxs, to_label,
                               num_workers, pending_loss, pending_correct)
            seen += size
            if progress:
                bar.update(size)
            if (i + 1) % sync_every == 0 or i + 1 == num_batches:
                # The only host sync: bounds how far Python runs ahead, feeds the bar, catches NaN.
                if bound is not None:
                    loss_total, correct_total = bound.totals.asnumpy().tolist()
                else:
                    loss_total += _drain(pending_loss)
                    correct_total += _drain(pending_correct)
                cost = _check_cost(loss_total / seen, epoch, bar if progress else None)
    finally:
        bar.close()
    accuracy = correct_total / n if to_label is not None else float("nan")
    return float(cost), float(accuracy), num_batches


def _autograd_step(model, trainer, X_batch, y_batch, batch_size, ctxs, to_label, num_workers,
                   pending_loss, pending_correct):
    """One update through autograd (any number of devices, dist kvstores); queues the batch's stats."""
    size = X_batch.shape[0]
    parts = _split(X_batch, y_batch, ctxs)
    with autograd.record():
        outputs = [model(X_part, y_part) for X_part, y_part in parts]
        idle = [model(X_part, y_part)[0] * 0 for X_part, y_part in _idle_parts(parts, ctxs)]
    if num_workers is None:
        autograd.backward([loss for loss, _ in outputs] + idle)
        trainer.step(size)  # the mean gradient of the samples actually in this batch
    else:
        # A dist kvstore fixes the optimizer's 1/batch scale when it starts, so the step size
        # cannot change: weight a short batch's losses by batch_size/size instead, which gives
        # the same mean gradient over all workers' samples.
        weight = batch_size / size
        with autograd.record():  # (the weighting is part of the graph that backward walks)
            weighted = [loss * weight for loss, _ in outputs]
        autograd.backward(weighted + idle)
        trainer.step(batch_size * num_workers)
    in_graph = isinstance(model, _NetWithLoss) and model._count_correct
    for k, ((loss, y_hat), (_, y_part)) in enumerate(zip(outputs, parts)):
        if in_graph:  # (summed loss, number right), computed in the graph
            pending_loss[k].append(loss)
            pending_correct[k].append(y_hat)
        else:
            pending_loss[k].append(loss.sum())
            if to_label is not None:
                pending_correct[k].append(_num_correct(to_label, y_hat, y_part))


def _check_cost(cost, epoch, bar):
    """At a host sync: stop on a NaN/inf cost, feed the progress bar; returns ``cost``."""
    if not math.isfinite(cost):
        raise _diverged(epoch, cost)
    if bar is not None:
        bar.set_postfix(cost=f"{cost:.4f}", samples_per_s=f"{bar.format_dict['rate'] or 0:.0f}",
                        refresh=False)
    return cost


def _num_correct(to_label, y_hat, y):
    """How many of the predicted labels ``to_label(y_hat)`` equal ``y`` (an NDArray of one element)."""
    return (to_label(y_hat).reshape((-1,)) == y.reshape((-1,))).sum()


def _drain(pending):
    """Add up, on the host, per-device lists of scalars, and empty them (one add_n per device)."""
    total = 0.0
    for values in pending:
        if values:
            total += float(nd.add_n(*values).asscalar())
            values.clear()
    return total


def evaluate(net, X, y, *, ctx=None, batch_size=1024, to_label=argmax_label, loss_fn=None):
    """``(cost, accuracy)`` of ``net`` on ``(X, y)``; cost is ``nan`` unless ``loss_fn`` is given."""
    X, y = _as_arrays((X, y), "evaluation")
    if len(X) == 0:
        raise MxdlError("cannot evaluate on empty data")
    ctxs = parse_ctx(ctx) if ctx is not None else net.collect_params().list_ctx()
    X_dev, y_dev = _to_device(X, y, ctxs[0])
    loss_sum = [nd.zeros(1, ctx=c) for c in ctxs]
    correct = [nd.zeros(1, ctx=c) for c in ctxs]
    for start in range(0, len(X), batch_size):
        X_batch, y_batch = X_dev[start:start + batch_size], y_dev[start:start + batch_size]
        parts = _split(X_batch, y_batch, ctxs)
        for k, (X_part, y_part) in enumerate(parts):
            y_hat = net(X_part)
            if to_label is not None:
                correct[k] += _num_correct(to_label, y_hat, y_part)
            if loss_fn is not None:
                loss_sum[k] += loss_fn(y_hat, y_part).sum()
    accuracy = sum(c.asscalar() for c in correct) / len(X) if to_label is not None else float("nan")
    cost = sum(s.asscalar() for s in loss_sum) / len(X) if loss_fn is not None else float("nan")
    return float(cost), float(accuracy)


def predict(net, X, *, ctx=None, batch_size=1024):
    """The net's outputs ``y_hat`` for inputs ``X``, as one numpy array."""
    X = X.asnumpy() if isinstance(X, nd.NDArray) else np.asarray(X, dtype="float32")
    ctxs = parse_ctx(ctx) if ctx is not None else net.collect_params().list_ctx()
    X_dev = nd.array(X, ctx=ctxs[0], dtype="float32")
    outputs = [net(X_dev[start:start + batch_size]) for start in range(0, len(X), batch_size)]
    return nd.concat(*outputs, dim=0).asnumpy()
