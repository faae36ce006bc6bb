"""Training: the talk's loop, and ``fit`` around it -- gradient descent, SGD and mini-batch SGD as one
loop whose only knob is ``batch_size``.

The talk's three optimisers are one algorithm, ``w <- w - lr * gradient of the cost on a batch``:

* ``batch_size=None`` (or N): gradient descent, one update per epoch;
* ``batch_size=1``: stochastic gradient descent, N updates per epoch;
* ``batch_size=b``: mini-batch SGD, ceil(N / b) updates per epoch.

The last, short batch is kept and ``trainer.step`` is told its true size, so every sample counts once
per epoch and every update is the mean gradient of the samples it saw.

:func:`train_epoch` is the talk's loop, cell for cell.  :func:`fit` runs epochs of it, shuffling,
evaluating and recording a :class:`History`; by default it hands each epoch to the engine
(:mod:`mxdl.engine`: the same maths, several times faster), and ``fast=False`` runs the talk's loop
itself.  Several devices or a ``dist_*`` kvstore train data-parallel (:mod:`mxdl.distributed`).
"""
import contextlib
import dataclasses
import time
from typing import Callable, Optional

import numpy as np
from mxnet import autograd, gluon, nd

from . import divergence, engine
from .config import check_batch_size, check_float32, check_int, check_seed
from .context import devices
from .distributed import horovod, parallel
from .errors import MxdlError
from .history import EpochStats, History  # noqa: F401  (train.History: what fit returns)

INITIAL_COST_SAMPLES = 1024  # training samples the initial cost is measured on (see mxdl.divergence)


def argmax_label(y_hat):
    """Multiclass prediction: the class with the highest score (``y_hat`` is batch x classes)."""
    return y_hat.argmax(axis=1)


def train_epoch(net, loss_fn, trainer, batches, to_label=argmax_label):
    """One epoch of the talk's loop: one update per batch; returns ``(cost, accuracy, updates)``.

    1. take a batch ``(X, y)`` of inputs and labels, and its true size ``n`` (the last may be short);
    2. forward, recorded by autograd: ``y_hat = net(X)``;
    3. the loss of every sample: ``loss = loss_fn(y_hat, y)``;
    4. backward: ``loss.backward()`` writes the gradient of the summed loss into every parameter;
    5. update: ``trainer.step(n)`` moves each weight by ``-lr *`` the batch's *mean* gradient;
    6. keep score: the running loss and number of right answers (``to_label``; None: no accuracy).

    ``cost`` is the mean loss over the epoch's samples, as seen while the weights were moving.
    """
    loss_sum = correct = 0.0  # running totals, kept on the device until the epoch ends
    seen = updates = 0
    for X, y in batches:
        n = X.shape[0]
        with autograd.record():
            y_hat = net(X)
            loss = loss_fn(y_hat, y)
        loss.backward()
        trainer.step(n)
        loss_sum = loss_sum + loss.sum()
        if to_label is not None:
            correct = correct + (to_label(y_hat).reshape((-1,)) == y.reshape((-1,))).sum()
        seen += n
        updates += 1
    if seen == 0:
        raise MxdlError("the epoch had no batches: give at least one sample")
    accuracy = float(correct.asscalar()) / seen if to_label is not None else float("nan")
    return float(loss_sum.asscalar()) / seen, accuracy, updates


@dataclasses.dataclass
class Settings:
    """How :func:`fit` trains: the talk's hyperparameters first, then the knobs of the loop."""

    num_epochs: int  # passes over the training data
    batch_size: Optional[int]  # samples per update: None (or N) GD, 1 SGD, b mini-batch SGD
    lr: float  # learning rate: w <- w - lr * mean gradient of the batch
    momentum: float = 0.0
    wd: float = 0.0  # weight decay (L2 penalty)
    shuffle: bool = True  # a new order of the samples every epoch
    seed: Optional[int] = None  # fixes the shuffling order (None: numpy's global generator)
    to_label: Optional[Callable] = argmax_label  # outputs -> predicted labels; None: a regression
    hybridize: bool = True  # compile the net into one graph (same numbers, faster)
    fast: bool = True  # train through mxdl.engine; False: the talk's loop, train_epoch
    progress: bool = False  # a tqdm progress bar per epoch
    sync_every: int = 50  # the engine waits for the device every this many batches
    start_epoch: int = 0  # epochs already trained (resuming): training goes on with start_epoch + 1
    log_interval: Optional[int] = None  # call on_interval every this many batches
    on_interval: Optional[Callable] = None  # on_interval(epoch, seen, n, cost) with the running cost

    def validate(self, num_train):
        """Raise :class:`~mxdl.errors.MxdlError` for a setting that cannot work on ``num_train`` samples."""
        if num_train == 0:
            raise MxdlError("the training data is empty: give at least one sample")
        check_int("num_epochs", self.num_epochs, 1)
        check_batch_size("batch_size", self.batch_size, num_train)
        check_float32("lr", self.lr, above=0)
        check_float32("momentum", self.momentum, minimum=0, below=1)
        check_float32("wd", self.wd, minimum=0)
        if self.seed is not None:
            check_seed("seed", self.seed)
        check_int("sync_every", self.sync_every, 1)
        check_int("start_epoch", self.start_epoch, 0, self.num_epochs - 1)
        if self.log_interval is not None:
            check_int("log_interval", self.log_interval, 1)
        return self

    def batch_size_for(self, num_train):
        """The batch size as a number: ``num_train`` for gradient descent (``None``)."""
        return num_train if self.batch_size is None else int(self.batch_size)


def make_trainer(net, lr, *, momentum=0.0, wd=0.0, kvstore="device", ctx=None, lean=True):
    """The talk's optimiser: ``gluon.Trainer`` with plain ``sgd`` (optionally momentum and weight decay);
    ``lean``: the engine's :class:`~mxdl.engine.SGDTrainer` (the same numbers, one call per parameter)."""
    parallel.check_kvstore(devices(net, ctx), kvstore)
    optimizer_params = {"learning_rate": lr}
    if momentum:
        optimizer_params["momentum"] = momentum
    if wd:
        optimizer_params["wd"] = wd
    if parallel.is_horovod(kvstore):  # rank 0's weights to every rank, then hvd.DistributedTrainer
        return horovod.make_trainer(net, optimizer_params, lean=lean)
    kind = engine.SGDTrainer if lean else gluon.Trainer
    return kind(net.collect_params(), "sgd", optimizer_params, kvstore=kvstore)


def fit(net, loss_fn, train, test=None, settings=None, *, ctx=None, kvstore="device", trainer=None,
        on_epoch=None, **fields):
    """Train ``net`` by minimising the mean of ``loss_fn`` over ``train = (X, y)``; return a :class:`History`.

    ``settings`` is a :class:`Settings`; its fields may also be given as keywords, e.g.
    ``fit(net, loss_fn, (X, y), num_epochs=4, batch_size=64, lr=0.1)``.  ``net`` must be initialised.
    ``ctx``: the devices (a Context or a list; default: where the net's parameters are), several for
    data-parallel training.  ``kvstore``: the Trainer's (``'device'``, ``'local'``, a ``dist_*``
    name or KVStore: then each worker trains on its own shard, and ``lr`` applies to the mean
    gradient of the global batch, ``batch_size`` x workers; or a Horovod job,
    ``mxdl.distributed.horovod.init()``: the same, with the ranks' gradients averaged by allreduce).
    ``trainer``: a caller's own (default
    :func:`make_trainer`).  ``on_epoch(stats)`` is called after every epoch.
    """
    settings = dataclasses.replace(settings, **fields) if settings else Settings(**fields)
    X, y = _as_arrays(train, "training")
    kvstore = parallel.make_kvstore(kvstore)
    if parallel.is_sharded(kvstore):  # one of several processes (ps-lite workers, Horovod ranks)
        X, y = parallel.shard(X, y, kvstore)
    n = len(X)
    settings.validate(n)
    batch_size = settings.batch_size_for(n)
    ctxs = devices(net, ctx)
    _place_params(net, ctxs)
    if trainer is None:
        trainer = make_trainer(net, settings.lr, momentum=settings.momentum, wd=settings.wd,
                               kvstore=kvstore, ctx=ctxs, lean=settings.fast)
    else:
        parallel.check_kvstore(ctxs, trainer._kvstore_params["kvstore"])  # (Gluon keeps it nowhere public)
    to_label = settings.to_label
    # The cost the training starts from: an epoch ending 1000 times above it has diverged.
    initial_cost = evaluate(net, X[:INITIAL_COST_SAMPLES], y[:INITIAL_COST_SAMPLES], ctx=ctxs,
                            to_label=None, loss_fn=loss_fn)[0]
    step = engine.make_step(net, loss_fn, trainer, ctxs, kvstore, to_label=to_label,
                            count_correct=to_label is argmax_label, hybridize=settings.hybridize,
                            fast=settings.fast, batch_size=batch_size)
    if step is None and settings.hybridize and isinstance(net, gluon.HybridBlock):
        net.hybridize(static_alloc=True, static_shape=True)  # the talk's loop, with the net compiled
    rng = np.random.RandomState(settings.seed) if settings.seed is not None else np.random
    # One copy of the data set on the (first) device; each batch of X is gathered with one `take`.
    X_dev, y_dev = nd.array(X, ctx=ctxs[0], dtype="float32"), nd.array(y, ctx=ctxs[0], dtype="float32")
    test_data = _as_arrays(test, "test") if test is not None else None
    history = History()
    order = np.arange(n)  # order[i]: the index in X of the i-th sample of this epoch's pass
    if settings.shuffle:  # resuming: the orders of the epochs already trained, so the next is the same
        for _ in range(settings.start_epoch):
            order = order[rng.permutation(n)]
    for epoch in range(settings.start_epoch + 1, settings.num_epochs + 1):
        start = time.time()
        if settings.shuffle:  # the same order as reshuffling the data set in place every epoch
            order = order[rng.permutation(n)]
        epoch_order = nd.array(order, ctx=ctxs[0], dtype="int64") if settings.shuffle else None
        with _progress_bar(n, epoch, settings.progress) as bar:
            on_interval = _interval_caller(settings, epoch, n, batch_size)
            if step is None:  # the talk's loop
                batches = _batches(X_dev, y_dev, epoch_order, batch_size, bar, on_interval)
                cost, train_acc, updates = train_epoch(net, loss_fn, trainer, batches, to_label)
            else:
                def on_sync(cost, seen):
                    _check_cost(cost, epoch, initial_cost, bar, seen)
                    if on_interval is not None:
                        on_interval(seen, cost)
                cost, train_acc, updates = engine.run_epoch(
                    step, X_dev, y_dev, epoch_order, batch_size, accuracy=to_label is not None,
                    sync_every=settings.log_interval or settings.sync_every, on_sync=on_sync)
        _check_cost(cost, epoch, initial_cost)
        seconds = time.time() - start
        test_acc = float("nan")
        if test_data is not None:
            test_acc = evaluate(net, *test_data, ctx=ctxs, to_label=to_label)[1]
        stats = EpochStats(epoch, float(cost), float(train_acc), test_acc, updates, seconds, n / seconds,
                           _learning_rate(trainer))
        history.append(stats)
        if on_epoch is not None:
            on_epoch(stats)
    return history


def _batches(X, y, order, batch_size, bar, on_interval=None):
    """The epoch's batches ``(X, y)`` on the device, in ``order`` (None: as stored)."""
    if order is not None:
        y = nd.take(y, order)
    for start in range(0, len(X), batch_size):
        stop = min(start + batch_size, len(X))
        yield (X[start:stop] if order is None else nd.take(X, order[start:stop])), y[start:stop]
        if bar is not None:
            bar.update(stop - start)
        if on_interval is not None:  # the talk's loop keeps its running cost on the device: nan here
            on_interval(stop, float("nan"))


def _interval_caller(settings, epoch, n, batch_size):
    """``call(seen, cost)`` that calls ``settings.on_interval`` after every ``log_interval``-th batch."""
    if settings.on_interval is None or not settings.log_interval:
        return None

    def call(seen, cost):
        if seen % batch_size == 0 and (seen // batch_size) % settings.log_interval == 0:
            settings.on_interval(epoch, seen, n, cost)
    return call


def _learning_rate(trainer):
    """The learning rate of the trainer's last update (its schedule's value at its update count)."""
    try:
        return float(trainer.learning_rate)
    except (AttributeError, UserWarning, TypeError):
        return float("nan")


@contextlib.contextmanager
def _progress_bar(n, epoch, show):
    """A tqdm bar over the epoch's samples (None unless ``show``).  Imported here so that importing
    mxdl stays light; plain tqdm, not tqdm.auto, which warns in every cell of a notebook without
    ipywidgets."""
    if not show:
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=n, desc=f"epoch {epoch}", unit="sample", leave=False, dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()


def _check_cost(cost, epoch, initial_cost, bar=None, seen=None):
    """Stop on a diverged cost (NaN/inf, or exploded: :mod:`mxdl.divergence`); feed the progress bar
    (advanced to ``seen`` samples)."""
    divergence.check_cost(cost, epoch, initial_cost)
    if bar is not None:
        bar.update(seen - bar.n)
        bar.set_postfix(cost=f"{cost:.4f}", refresh=False)  # (the bar itself shows samples/s)


def _as_arrays(data, what):
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise MxdlError(f"{what} data must be an (X, y) pair")
    X, y = data
    X = X.asnumpy() if isinstance(X, nd.NDArray) else np.asarray(X)
    y = y.asnumpy() if isinstance(y, nd.NDArray) else np.asarray(y)
    if len(X) != len(y):
        raise MxdlError(f"{what} data has {len(X)} inputs X but {len(y)} labels y: they must match")
    return X, y


def _place_params(net, ctxs):
    params = net.collect_params()
    if any(param.list_ctx() != ctxs for param in params.values()):
        params.reset_ctx(ctxs)


def evaluate(net, X, y, *, ctx=None, batch_size=1024, to_label=argmax_label, loss_fn=None):
    """``(cost, accuracy)`` of ``net`` on ``(X, y)``; cost is ``nan`` unless ``loss_fn`` is given."""
    X, y = _as_arrays((X, y), "evaluation")
    if len(X) == 0:
        raise MxdlError("cannot evaluate on empty data")
    ctxs = devices(net, ctx)
    X_dev, y_dev = nd.array(X, ctx=ctxs[0], dtype="float32"), nd.array(y, ctx=ctxs[0], dtype="float32")
    loss_sum = [nd.zeros(1, ctx=c) for c in ctxs]
    correct = [nd.zeros(1, ctx=c) for c in ctxs]
    for start in range(0, len(X), batch_size):
        parts = parallel.split(X_dev[start:start + batch_size], y_dev[start:start + batch_size], ctxs)
        for k, (X_part, y_part) in enumerate(parts):
            y_hat = net(X_part)
            if to_label is not None:
                correct[k] += (to_label(y_hat).reshape((-1,)) == y_part.reshape((-1,))).sum()
            if loss_fn is not None:
                loss_sum[k] += loss_fn(y_hat, y_part).sum()
    accuracy = sum(c.asscalar() for c in correct) / len(X) if to_label is not None else float("nan")
    cost = sum(s.asscalar() for s in loss_sum) / len(X) if loss_fn is not None else float("nan")
    return float(cost), float(accuracy)


def predict(net, X, *, ctx=None, batch_size=1024):
    """The net's outputs ``y_hat`` for inputs ``X``, as one numpy array."""
    X = X.asnumpy() if isinstance(X, nd.NDArray) else np.asarray(X, dtype="float32")
    X_dev = nd.array(X, ctx=devices(net, ctx)[0], dtype="float32")
    outputs = [net(X_dev[start:start + batch_size]) for start in range(0, len(X), batch_size)]
    return nd.concat(*outputs, dim=0).asnumpy()
