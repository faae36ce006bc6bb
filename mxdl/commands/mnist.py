"""Train a net on MNIST and print the meetup demo's line per epoch (the talk's closing demo).

    mxdl-mnist                                 # logreg, lr 0.1, batch 64, 4 epochs
    mxdl-mnist --preset meetup                 # the demo exactly, Normal(sigma=1) init too
    mxdl-mnist --model lenet --ctx gpu --out runs/lenet
    mxdl-mnist --ctx gpu:0,gpu:1               # data-parallel on two GPUs
    python -m mxdl.distributed.launch --workers 2 --servers 1 -- python -m mxdl.commands.mnist --kvstore dist_sync
    horovodrun -np 2 -H localhost:2 --gloo python -m mxdl.commands.mnist --dist horovod --batch-size 32

(``python -m mxdl.commands.mnist`` and ``python scripts/mnist.py`` are the same command.)  Everything
it does is :func:`mxdl.demos.mnist_demo.run`; this module only turns flags into a :class:`Config`.
The flags are parsed before MXNet is imported, so that :func:`mxdl.env.configure` can set the
threading that suits the model and batch size first.
"""
import argparse
import dataclasses

from .. import cli, env
from ..checkpoint import load_checkpoint
from ..config import DISTS, KVSTORES, LR_SCHEDULES, OPTIMIZERS, PRESETS, Config, check_number
from ..data import DATASETS
from ..errors import MxdlError
from ..models import check_init, list_models

_DEFAULT = Config()


def build_parser():
    """One flag per :class:`~mxdl.config.Config` field, defaults from the config (the demo's)."""
    parser = cli.ArgumentParser(prog="mxdl-mnist", description=__doc__.splitlines()[0],
                                epilog=_EPILOG)
    group = parser.add_argument_group("model and data").add_argument
    group("--preset", choices=sorted(PRESETS), help="start from a preset; other flags override it "
          "(meetup: the demo's settings, logreg, init normal:1, lr 0.1, batch 64, 4 epochs, mnist. "
          "A fresh run does not print the meetup's 0.8953-0.9002: the notebook's execution counts "
          "and its first epoch (loss 0.42, train acc 0.898) say that table came from a net trained "
          "before. Fresh, it reaches 0.7325 on the shipped digits; continue a run with --resume "
          "RUN_DIR --epochs N. README: 'The meetup's numbers, honestly')")
    group("--model", choices=list_models(), default=_DEFAULT.model, help="the net")
    group("--init", type=_init_spec, default=_DEFAULT.init, metavar="SPEC", help="weight "
          "initialiser: normal:SIGMA, uniform:SCALE, xavier[:MAGNITUDE] (default: the model's, "
          "normal:0.01 for logreg, xavier for mlp and lenet; the demo used normal:1)")
    group("--dataset", choices=DATASETS, default=_DEFAULT.dataset,
          help="mnist falls back to the shipped mnist-t10k when it can be neither found nor downloaded")
    group("--data-dir", default=_DEFAULT.data_dir, metavar="DIR", help="directory holding the IDX "
          "files (default: MXNet's cache, system copies, then a download)")
    group("--no-download", dest="download", action="store_false", default=argparse.SUPPRESS,
          help="use only data found locally, never download it")
    group("--limit", type=cli.positive_int, default=_DEFAULT.limit, metavar="N", help="train on the "
          "first N training samples only (the test set stays whole)")

    group = parser.add_argument_group("training").add_argument
    group("--epochs", dest="num_epochs", type=cli.positive_int, default=_DEFAULT.num_epochs,
          metavar="N", help="passes over the training data (with --resume: the total, counting the "
          "epochs already trained)")
    group("--batch-size", type=cli.positive_int, default=_DEFAULT.batch_size, metavar="N",
          help="samples per update (per worker with a dist kvstore: one update then uses "
          "batch-size x workers samples)")
    group("--lr", type=cli.positive_float, default=_DEFAULT.lr, metavar="LR", help="learning rate, "
          "applied to the mean gradient of an update's samples (of all workers with a dist kvstore)")
    group("--seed", type=cli.seed, default=_DEFAULT.seed, metavar="S",
          help="random seed of the initial weights and the shuffling")
    group("--no-shuffle", dest="shuffle", action="store_false", default=argparse.SUPPRESS,
          help="train on the samples in file order every epoch (to compare runs batch by batch)")
    group("--ctx", default=_DEFAULT.ctx, metavar="DEVICES", help="device(s): cpu, gpu, gpu:N, auto, "
          "or a list gpu:0,1")
    group("--kvstore", choices=KVSTORES, default=_DEFAULT.kvstore, help="how devices share "
          "gradients; dist_sync/dist_async: one worker of a job started by python -m "
          "mxdl.distributed.launch, training on its shard of the data")
    group("--dist", choices=DISTS, default=_DEFAULT.dist, help="horovod: one rank of a Horovod job "
          "started by horovodrun (e.g. horovodrun -np 2 --gloo mxdl-mnist --dist horovod), training "
          "on its shard of the data, gradients averaged by allreduce; --batch-size is per rank (make "
          "horovod builds Horovod)")
    group("--hybridize", dest="hybridize", action="store_true", default=_DEFAULT.hybridize,
          help="compile the net into one graph")
    group("--no-hybridize", dest="hybridize", action="store_false", default=argparse.SUPPRESS,
          help="run the net imperatively instead (same numbers, slower)")

    group = parser.add_argument_group("optimiser (MXNet's registry, through gluon.Trainer)").add_argument
    group("--optimizer", choices=OPTIMIZERS, default=_DEFAULT.optimizer, metavar="NAME",
          help="sgd (the talk's, with mxdl's fast update), nag, adam, rmsprop, adagrad, ... "
          f"(any of: {', '.join(OPTIMIZERS)})")
    group("--momentum", type=cli.fraction, default=_DEFAULT.momentum, metavar="M",
          help="momentum (sgd, nag, ...), in [0, 1)")
    group("--wd", type=cli.non_negative_float, default=_DEFAULT.wd, metavar="WD", help="weight decay")
    for name, what in (("beta1", "decay of the first moment (adam, nadam, ...)"),
                       ("beta2", "decay of the second moment (adam, nadam, ...)"),
                       ("gamma1", "decay of the squared gradients' average (rmsprop)")):
        group(f"--{name}", type=cli.fraction, default=None, metavar="B",
              help=what + ", in [0, 1) (default: MXNet's)")
    group("--epsilon", type=cli.positive_float, default=None, metavar="EPS",
          help="the optimiser's small constant (default: MXNet's)")
    group("--clip-gradient", type=cli.positive_float, default=None, metavar="C",
          help="clip every gradient element to [-C, C]")

    group = parser.add_argument_group("learning-rate schedule (mx.lr_scheduler)").add_argument
    group("--lr-schedule", choices=LR_SCHEDULES, default=None, help="factor: lr x --lr-factor every "
          "--lr-steps epochs (default 1); multifactor: at each epoch in --lr-steps (default: "
          "half-way); cosine, poly: down to --final-lr over the run (default: a constant lr)")
    group("--lr-factor", type=_lr_factor, default=_DEFAULT.lr_factor, metavar="F",
          help="factor, multifactor: multiply lr by F at each step")
    group("--lr-steps", type=cli.positive_int, nargs="+", default=None, metavar="EPOCH",
          help="factor: the step length in epochs; multifactor: the epochs to step after")
    group("--warmup-epochs", type=cli.non_negative_float, default=_DEFAULT.warmup_epochs, metavar="E",
          help="linear warm-up from --warmup-begin-lr to --lr over the first E epochs")
    group("--warmup-begin-lr", type=cli.non_negative_float, default=_DEFAULT.warmup_begin_lr,
          metavar="LR", help="the learning rate the warm-up starts from")
    group("--final-lr", type=cli.non_negative_float, default=_DEFAULT.final_lr, metavar="LR",
          help="cosine, poly: the learning rate at the end")
    group("--lr-power", type=cli.positive_float, default=_DEFAULT.lr_power, metavar="P",
          help="poly: the exponent")

    group = parser.add_argument_group("outputs and checkpoints").add_argument
    group("--out", default=_DEFAULT.out, metavar="DIR", help="write config.json, history.csv/.json, "
          "params, plots, checkpoint.ckpt and report.html here (worker 0 only)")
    group("--checkpoint-every", type=cli.positive_int, default=_DEFAULT.checkpoint_every, metavar="N",
          help="with --out: write DIR/checkpoint.ckpt every N epochs and after the last (atomically)")
    group("--resume", default=None, metavar="RUN_DIR|CHECKPOINT", help="continue a run: its "
          "weights, optimiser state, epoch count and history; its flags are the defaults, --out "
          "defaults to RUN_DIR, and --epochs is the new total")
    group("--save", default=_DEFAULT.save, metavar="FILE", help="save the trained params to FILE; "
          "with a dist kvstore worker 0 does, or every worker if FILE contains {rank} (its rank)")
    group("--load", default=_DEFAULT.load, metavar="FILE", help="start from params saved in FILE")
    group("--export", default=None, metavar="PREFIX", help="after training, write PREFIX-symbol.json "
          "and PREFIX-0000.params (HybridBlock.export), loadable without mxdl")

    group = parser.add_argument_group("logging").add_argument
    group("--quiet", action="store_true", default=argparse.SUPPRESS,
          help="no progress bar, config or model print-out: just the epoch lines")
    group("--log-interval", type=cli.positive_int, default=None, metavar="N", help="a line every N "
          "batches (when there is no progress bar: progress bars show only on a terminal)")
    group("--tensorboard", default=None, metavar="DIR", help="write TensorBoard event files to DIR "
          "(needs the tensorboard extra: pip install 'mxdl[tensorboard]')")
    group("--dry-run", action="store_true", default=argparse.SUPPRESS, help="train on one batch and "
          "evaluate on one, end to end, writing nothing")
    return parser


_EPILOG = """examples:
  mxdl-mnist --out runs/mnist                          train, write runs/mnist/ (report.html too)
  mxdl-mnist --resume runs/mnist --epochs 8            4 more epochs of that run
  mxdl-mnist --optimizer adam --lr 0.001 --lr-schedule cosine --warmup-epochs 1
  mxdl-evaluate --params runs/mnist/logreg.params      accuracy, precision/recall, pictures"""


def _lr_factor(text):
    """argparse type for --lr-factor: a number in (0, 1]."""
    try:
        return check_number("lr_factor", float(text), above=0, maximum=1)
    except (ValueError, MxdlError):
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1], got {text!r}") from None


def _init_spec(text):
    """argparse type for --init: a valid initialiser spec (checked by building it)."""
    try:
        check_init(text)
    except MxdlError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def parse_config(argv=None):
    """Flags -> :class:`Config`; a ``--preset`` supplies the defaults that explicit flags override."""
    parser = build_parser()
    known, _ = parser.parse_known_args(argv)
    if known.preset:
        parser.set_defaults(**PRESETS[known.preset])
    if known.resume:
        parser.set_defaults(**resumed_defaults(known.resume))
    args = vars(parser.parse_args(argv))
    args.pop("preset")
    return Config(**args)


def resumed_defaults(resume):
    """The flags' defaults for ``--resume``: the config of the run that wrote the checkpoint, writing
    into the run directory it names (explicit flags still override them)."""
    import os

    checkpoint = load_checkpoint(resume)
    names = {field.name for field in dataclasses.fields(Config)}
    defaults = {k: v for k, v in checkpoint.config.items() if k in names
                and k not in ("resume", "load", "dry_run")}
    if os.path.isdir(resume):
        defaults["out"] = resume
    return defaults


def main(argv=None):
    """``mxdl-mnist``: flags -> :class:`Config` -> :func:`mxdl.demos.mnist_demo.run`; returns the exit code."""
    return cli.run(_main, argv)


def _main(argv):
    config = parse_config(argv).validate()
    # MXNet reads its threading settings once, when it is imported: choose them for this model and
    # batch size first, when the run is one process training on one CPU device.  Horovod's ranks,
    # ps-lite's workers and servers (a dist_* kvstore) and several CPU devices share the machine's
    # cores, so each keeps the one thread of env's defaults; on a GPU the work is on the device, and
    # a spinning CPU thread would only burn a core.
    one_process = config.dist is None and not config.kvstore.startswith("dist")
    if one_process and "," not in config.ctx and not config.ctx.startswith("gpu"):
        env.configure(config.model, config.batch_size)
    from ..demos.mnist_demo import run  # (imports MXNet)
    from ..distributed import launch

    # A dist worker that fails must exit at once (a live kvstore would hang it): see launch.fail_fast.
    with launch.fail_fast():
        result = run(config)
    from ..meetup import context_line, is_meetup_config

    fresh = not (config.load or config.resume or config.dry_run)
    if fresh and result.rank == 0 and is_meetup_config(result.config):
        print(context_line(result.dataset.name, result.history))  # (make demo ends with this line)


if __name__ == "__main__":
    raise SystemExit(main())
