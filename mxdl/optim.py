"""Optimisers and learning-rate schedules by name, from MXNet's own registries (nothing hand-written).

The talk's optimiser is plain SGD, ``w <- w - lr * gradient``.  Everything else a practitioner reaches
for is MXNet's: ``mx.optimizer`` knows ``nag``, ``adam``, ``rmsprop``, ``adagrad`` and more by name
(``gluon.Trainer(params, 'adam', {...})``), and ``mx.lr_scheduler`` changes ``lr`` as training
goes (drop it by a factor every few epochs, at chosen epochs, or along a cosine or polynomial
curve, each with an optional linear warm-up)::

    scheduler = make_lr_scheduler("cosine", lr=0.1, updates_per_epoch=938, num_epochs=4,
                                  warmup_epochs=1)
    params = optimizer_params("adam", lr=0.001, wd=1e-4, lr_scheduler=scheduler)
    trainer = gluon.Trainer(net.collect_params(), "adam", params)
"""
import inspect

import mxnet as mx
from mxnet import gluon

from .config import LR_SCHEDULES as SCHEDULES
from .context import devices
from .errors import MxdlError
# Hyperparameters with a flag of their own: the optimiser's argument name -> the flag.
FLAGS = {"momentum": "--momentum", "wd": "--wd", "beta1": "--beta1", "beta2": "--beta2",
         "epsilon": "--epsilon", "gamma1": "--gamma1", "gamma2": "--gamma2", "rho": "--rho",
         "clip_gradient": "--clip-gradient", "centered": "--centered"}


def list_optimizers():
    """The optimiser names MXNet's registry knows (without its internal 'test' optimiser)."""
    return sorted(name for name in mx.optimizer.Optimizer.opt_registry if name != "test")


def optimizer_arguments(name):
    """The keyword arguments optimiser ``name`` accepts (its own and the base Optimizer's)."""
    cls = _optimizer_class(name)
    names = set()
    for klass in cls.__mro__:
        if klass is object:
            continue
        names.update(p for p in inspect.signature(klass.__init__).parameters
                     if p not in ("self", "kwargs", "args"))
    return names


def _optimizer_class(name):
    registry = mx.optimizer.Optimizer.opt_registry
    if name not in registry or name == "test":
        raise MxdlError(f"unknown optimizer {name!r}: choose one of {', '.join(list_optimizers())}")
    return registry[name]


def optimizer_params(name, lr, lr_scheduler=None, **hyper):
    """``optimizer_params`` for ``gluon.Trainer(params, name, ...)``: the learning rate, the schedule and
    every hyperparameter in ``hyper`` that is not None.

    A hyperparameter the optimiser does not take (``momentum`` for ``adam``) is an error naming the
    flag, unless it is at its neutral value (``momentum=0``, ``wd=0``), which is dropped.
    """
    accepted = optimizer_arguments(name)
    params = {"learning_rate": lr}
    if lr_scheduler is not None:
        params["lr_scheduler"] = lr_scheduler
    for key, value in hyper.items():
        if value is None:
            continue
        if key not in accepted:
            if key in ("momentum", "wd") and not value:
                continue  # the defaults of flags every optimiser shows: nothing asked for
            flag = FLAGS.get(key, key)
            raise MxdlError(f"optimizer {name} takes no {flag}; it takes "
                            f"{', '.join(sorted(FLAGS.get(a, a) for a in accepted if a in FLAGS))}")
        params[key] = value
    return params


def make_lr_scheduler(kind, *, lr, updates_per_epoch, num_epochs, factor=0.1, step_epochs=None,
                      warmup_epochs=0, warmup_begin_lr=0.0, final_lr=0.0, power=2.0):
    """An ``mx.lr_scheduler`` of ``kind`` (None: a constant rate), in units of epochs.

    * ``factor``: lr x ``factor`` every ``step_epochs[0]`` epochs (default every epoch);
    * ``multifactor``: lr x ``factor`` at each epoch in ``step_epochs`` (default: half-way);
    * ``cosine``: from lr down to ``final_lr`` along half a cosine over the run;
    * ``poly``: from lr down to ``final_lr`` as ``(1 - t)**power`` over the run.

    Each starts with ``warmup_epochs`` of linear warm-up from ``warmup_begin_lr`` to ``lr``.  MXNet
    counts updates, so epochs are turned into updates with ``updates_per_epoch``.
    """
    if kind is None:
        return None
    if kind not in SCHEDULES:
        raise MxdlError(f"unknown lr schedule {kind!r}: choose one of {', '.join(SCHEDULES)}")
    if warmup_epochs < 0 or warmup_epochs >= num_epochs and kind in ("cosine", "poly"):
        raise MxdlError(f"--warmup-epochs {warmup_epochs} must be >= 0 and shorter than the run "
                        f"({num_epochs} epochs)")
    warmup = dict(warmup_steps=int(round(warmup_epochs * updates_per_epoch)),
                  warmup_begin_lr=warmup_begin_lr)
    if warmup_begin_lr > lr:
        raise MxdlError(f"--warmup-begin-lr {warmup_begin_lr} must not be above --lr {lr}")
    max_update = int(num_epochs * updates_per_epoch)
    try:
        if kind == "factor":
            every = (step_epochs or [1])[0]
            return mx.lr_scheduler.FactorScheduler(step=max(1, int(every * updates_per_epoch)),
                                                   factor=factor, base_lr=lr, **warmup)
        if kind == "multifactor":
            epochs = step_epochs or [max(1, num_epochs // 2)]
            steps = [int(e * updates_per_epoch) for e in epochs]
            if any(b <= a for a, b in zip(steps, steps[1:])) or steps[0] < 1:
                raise MxdlError(f"--lr-steps {' '.join(map(str, epochs))} must be increasing epochs >= 1")
            return mx.lr_scheduler.MultiFactorScheduler(step=steps, factor=factor, base_lr=lr, **warmup)
        if final_lr >= lr:
            raise MxdlError(f"--final-lr {final_lr} must be below --lr {lr} for a {kind} schedule")
        if kind == "cosine":
            return mx.lr_scheduler.CosineScheduler(max_update=max_update, base_lr=lr, final_lr=final_lr,
                                                   **warmup)
        return mx.lr_scheduler.PolyScheduler(max_update=max_update, base_lr=lr, pwr=power,
                                             final_lr=final_lr, **warmup)
    except (AssertionError, ValueError) as err:
        raise MxdlError(f"cannot build the {kind} lr schedule: {err or 'invalid settings'}") from None


def make_trainer(net, config, *, updates_per_epoch, kvstore="device", ctx=None, lean=True):
    """The ``gluon.Trainer`` a :class:`~mxdl.config.Config` asks for: ``config.optimizer`` with its
    flags and ``config.lr_schedule``.  Plain ``sgd`` is :func:`mxdl.train.make_trainer`'s (mxdl's
    one-call update, every kvstore, Horovod), with the schedule and clipping set on its optimizer;
    every other name is Gluon's own Trainer."""
    from .distributed import parallel
    from .train import make_trainer as sgd_trainer

    scheduler = make_config_scheduler(config, updates_per_epoch)
    params = optimizer_params(config.optimizer, config.lr, scheduler, momentum=config.momentum,
                              wd=config.wd, beta1=config.beta1, beta2=config.beta2,
                              epsilon=config.epsilon, gamma1=config.gamma1,
                              clip_gradient=config.clip_gradient)  # (checks the flags either way)
    if config.optimizer == "sgd":
        trainer = sgd_trainer(net, config.lr, momentum=config.momentum, wd=config.wd, kvstore=kvstore,
                              ctx=ctx, lean=lean)
        trainer.optimizer.lr_scheduler = scheduler  # (built with base_lr = config.lr)
        trainer.optimizer.clip_gradient = config.clip_gradient
        return trainer
    if parallel.is_horovod(kvstore):
        raise MxdlError(f"--dist horovod trains with sgd (mxdl's Horovod trainer), not {config.optimizer}")
    parallel.check_kvstore(devices(net, ctx), kvstore)
    return gluon.Trainer(net.collect_params(), config.optimizer, params, kvstore=kvstore)


def make_config_scheduler(config, updates_per_epoch):
    """``config``'s lr schedule (None for a constant lr)."""
    return make_lr_scheduler(config.lr_schedule, lr=config.lr, updates_per_epoch=updates_per_epoch,
                             num_epochs=config.num_epochs, factor=config.lr_factor,
                             step_epochs=config.lr_steps, warmup_epochs=config.warmup_epochs,
                             warmup_begin_lr=config.warmup_begin_lr, final_lr=config.final_lr,
                             power=config.lr_power)


def apply_schedule(trainer, config, updates_per_epoch):
    """After ``trainer.load_states`` (which brings back the saved optimizer, lr and schedule): this
    run's lr and schedule from its update count on (every MXNet schedule is a function of it)."""
    optimizer = trainer.optimizer
    optimizer.lr_scheduler = make_config_scheduler(config, updates_per_epoch)
    optimizer.lr = config.lr
