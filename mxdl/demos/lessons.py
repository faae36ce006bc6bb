"""The slides that had no code, run end to end: each concept's numbers and its picture.

In the talk's order: why ``y = w·x`` and not ``y = x²`` (:mod:`mxdl.families`); epochs,
hyperparameters and the mini-batch arithmetic (:mod:`mxdl.minibatch`); SGD "bouncing around"
(:func:`mxdl.scratch.weight_path`); then the "Next Steps" slide: linear vs logistic regression
(:mod:`mxdl.regression`), backpropagation by hand (:mod:`mxdl.backprop`), overfitting and weight decay
(:mod:`mxdl.overfitting`); and the meetup's printed numbers against a fresh run (:mod:`mxdl.meetup`).
``mxdl-lessons`` (:mod:`mxdl.commands.lessons`) is its command line::

    from mxdl.demos.lessons import LessonsConfig, run, write_outputs
    result = run(LessonsConfig(), log=print)
    write_outputs(result, "runs/lessons")
"""
import dataclasses
import os

import numpy as np

from .. import backprop, families, meetup, minibatch, overfitting, regression, scratch
from ..config import check_int, check_number, check_seed
from ..data import load_dataset
from ..plots import save_figure
from ..toy import make_toy

METHODS = (("gradient descent", None), ("SGD", 1), ("mini-batch SGD", 16))


@dataclasses.dataclass
class LessonsConfig:
    """Settings of the lessons; the defaults are the runs the README quotes."""

    seed: int = 0  # toy data, shuffling and initial weights (the meetup run uses the demo's seed, 1)
    lr: float = 0.05  # the toy runs' learning rate (as the toy demo)
    path_epochs: int = 20  # epochs of the weight paths
    num_train: int = 300  # shipped digits for the overfitting runs
    num_epochs: int = 60  # epochs of the overfitting runs
    wd: float = 0.01  # the weight decay compared with none
    reach_epochs: int = 60  # at most this many epochs of the meetup's settings to reach 0.90

    def validate(self):
        """Raise :class:`~mxdl.errors.MxdlError` naming the first field with a value that cannot work."""
        check_seed("seed", self.seed)
        check_number("lr", self.lr, above=0)
        check_int("path_epochs", self.path_epochs, 1)
        check_int("num_train", self.num_train, 10)
        check_int("num_epochs", self.num_epochs, 1)
        check_number("wd", self.wd, above=0)
        check_int("reach_epochs", self.reach_epochs, 1)
        return self


@dataclasses.dataclass
class LessonsResult:
    """Everything the lessons computed, for printing and plotting."""

    config: LessonsConfig
    toy: object
    families: dict
    bent: tuple  # (train, test, fits) on the bent data
    paths: dict
    regressions: dict
    far: tuple  # (far train data, fits)
    backprop: tuple  # (cost by hand, cost by autograd, hand grads, autograd grads)
    overfitting: list
    reach: object


def run(config, log=print):
    """Compute every lesson with ``config``; ``log`` gets one line per result as it comes."""
    config = dataclasses.replace(config).validate()
    data = make_toy(seed=config.seed)
    log("why y = w·x and not y = x²: the best member of each family on the talk's data")
    fits = families.compare_families(data.train, data.test)
    for fit in fits.values():
        log("  " + str(fit))
    bent_train = families.bend(data.X_train), data.y_train
    bent_test = families.bend(data.X_test), data.y_test
    bent_fits = families.compare_families(bent_train, bent_test)
    log("  ... and on data whose dividing curve is the parabola y = 0.1·x²")
    for fit in bent_fits.values():
        log("  " + str(fit))
    log("epochs, hyperparameters and the mini-batch arithmetic")
    for name, meaning in minibatch.HYPERPARAMETERS.items():
        log(f"  hyperparameter {name}: {meaning}")
    for args in ((100, 5), (100, 7, 4), (60000, 64)):
        log("  " + minibatch.describe(*args))
    log(f"SGD bouncing around: w after every update (lr {config.lr}, {config.path_epochs} epochs "
        "from w = 0)")
    paths = {}
    for name, batch_size in METHODS:
        path = scratch.weight_path(*data.train, lr=config.lr, num_epochs=config.path_epochs,
                                   batch_size=batch_size, shuffle=batch_size is not None,
                                   seed=config.seed)
        per_epoch = (len(path) - 1) // config.path_epochs
        label = f"{name} (batch {batch_size or len(data.y_train)})"
        paths[label] = path
        log(f"  {label:26s} {len(path) - 1:5d} updates, final w {path[-1]:.4f}, range over the last "
            f"epoch {np.ptp(path[-per_epoch - 1:]):.4f}")
    log("linear vs logistic regression (Dense(1), gradient descent), on the toy data")
    plain = regression.compare(data.train, data.test)
    for fit in plain.values():
        log("  " + str(fit))
    far = regression.add_far_diamonds(*data.train, seed=config.seed)
    far_fits = regression.compare(far, data.test)
    log("  ... with 40 far-away diamonds added to the training data")
    for fit in far_fits.values():
        log("  " + str(fit))
    digits = load_dataset("mnist-t10k", download=False, progress=False)
    X32, y32 = digits.train[0][:32], digits.train[1][:32]
    params = backprop.init_params(784, 16, 10, seed=config.seed, scale=0.1)
    cost_hand, hand = backprop.gradients_by_hand(params, X32, y32)
    cost_auto, auto = backprop.gradients_autograd(params, X32, y32)
    worst = max(backprop.max_difference(hand, auto).values())
    log(f"backpropagation by hand vs autograd, 784-16-10 net on 32 digits: cost {cost_hand:.6f} vs "
        f"{cost_auto:.6f}, largest gradient difference {worst:.1e}")
    log(f"overfitting: mlp on {config.num_train} shipped digits, {config.num_epochs} epochs, lr 0.1, "
        "batch 32")
    runs = [overfitting.train_vs_test("mlp", wd=wd, num_train=config.num_train,
                                      num_epochs=config.num_epochs, seed=config.seed, dataset=digits)
            for wd in (0.0, config.wd)]
    for curves in runs:
        log("  " + str(curves))
    reach = meetup.updates_to_reach(0.90, max_epochs=config.reach_epochs)
    log("the meetup's settings from a fresh net: " + reach.summary())
    return LessonsResult(config, data, fits, (bent_train, bent_test, bent_fits), paths, plain,
                         (far, far_fits), (cost_hand, cost_auto, hand, auto), runs, reach)


def make_figures(result):
    """``{file stem: Figure}`` of every lesson."""
    from matplotlib.figure import Figure

    from ..plots import lessons
    from ..plots.meetup import plot_reach

    data = result.toy
    families_fig = Figure(figsize=(13, 4.5), layout="constrained")
    left, right = families_fig.subplots(1, 2)
    lessons.plot_families(*data.train, result.families, ax=left)
    lessons.plot_families(*result.bent[0], result.bent[2], ax=right)
    right.set_title("the same, on data bent to the parabola y = 0.1·x²")
    regressions_fig = Figure(figsize=(13, 4.5), layout="constrained")
    left, right = regressions_fig.subplots(1, 2)
    lessons.plot_regressions(*data.train, result.regressions, ax=left, title="the toy data")
    lessons.plot_regressions(*result.far[0], result.far[1], ax=right,
                             title="with 40 far-away diamonds added")
    return {
        "model_families": families_fig,
        "updates_per_epoch": lessons.plot_updates_per_epoch(),
        "weight_paths": lessons.plot_weight_paths(result.paths, result.config.path_epochs, w_best=2.0),
        "linear_vs_logistic": regressions_fig,
        "backprop_check": lessons.plot_backprop_check(result.backprop[2], result.backprop[3]),
        "overfitting": lessons.plot_train_vs_test(result.overfitting),
        "meetup_reach": plot_reach(result.reach),
    }


def write_outputs(result, out):
    """Draw :func:`make_figures` into ``out`` as PNGs (atomically); return ``{stem: path}``."""
    os.makedirs(out, exist_ok=True)
    return {stem: save_figure(fig, os.path.join(out, stem + ".png"), dpi=100)
            for stem, fig in make_figures(result).items()}
