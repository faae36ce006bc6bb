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
threading that suits the model first.
"""
import argparse

from .. import cli, env
from ..config import DISTS, KVSTORES, PRESETS, Config
from ..data import DATASETS
from ..errors import MxdlError
from ..models import check_init, list_models

_DEFAULT = Config()


def build_parser():
    """One flag per :class:`~mxdl.config.Config` field, defaults from the config (the demo's)."""
    parser = cli.ArgumentParser(prog="mxdl-mnist", description=__doc__.splitlines()[0])
    arg = parser.add_argument
    arg("--preset", choices=sorted(PRESETS), help="start from a preset; other flags override it "
        "(meetup: logreg, init normal:1, lr 0.1, batch 64, 4 epochs, mnist)")
    arg("--model", choices=list_models(), default=_DEFAULT.model, help="the net")
    arg("--dataset", choices=DATASETS, default=_DEFAULT.dataset,
        help="mnist falls back to the shipped mnist-t10k when it can be neither found nor downloaded")
    arg("--data-dir", default=_DEFAULT.data_dir, metavar="DIR", help="directory holding the IDX "
        "files (None: MXNet's cache, system copies, then a download)")
    arg("--no-download", dest="download", action="store_false", default=argparse.SUPPRESS,
        help="use only data found locally, never download it")
    arg("--batch-size", type=cli.positive_int, default=_DEFAULT.batch_size, help="samples per update "
        "(per worker with a dist kvstore: one update then uses batch-size x workers samples)")
    arg("--epochs", dest="num_epochs", type=cli.positive_int, default=_DEFAULT.num_epochs,
        metavar="N", help="passes over the training data")
    arg("--lr", type=cli.positive_float, default=_DEFAULT.lr, help="learning rate, applied to the "
        "mean gradient of an update's samples (of all workers with a dist kvstore)")
    arg("--momentum", type=cli.fraction, default=_DEFAULT.momentum, help="SGD momentum, in [0, 1)")
    arg("--wd", type=cli.non_negative_float, default=_DEFAULT.wd, help="weight decay")
    arg("--init", type=_init_spec, default=_DEFAULT.init, help="weight initialiser: normal:SIGMA, "
        "uniform:SCALE, xavier[:MAGNITUDE] (None: the model's default, normal:0.01 for logreg, "
        "xavier for mlp and lenet; the demo used normal:1)")
    arg("--ctx", default=_DEFAULT.ctx, help="device(s): cpu, gpu, gpu:N, auto, or a list gpu:0,1")
    arg("--kvstore", choices=KVSTORES, default=_DEFAULT.kvstore, help="how devices share gradients; "
        "dist_sync/dist_async: one worker of a job started by python -m mxdl.distributed.launch, "
        "training on its shard of the data")
    arg("--dist", choices=DISTS, default=_DEFAULT.dist, help="horovod: one rank of a Horovod job "
        "started by horovodrun (e.g. horovodrun -np 2 --gloo mxdl-mnist --dist horovod), training on "
        "its shard of the data, gradients averaged by allreduce; --batch-size is per rank (make horovod "
        "builds Horovod)")
    arg("--seed", type=cli.non_negative_int, default=_DEFAULT.seed,
        help="random seed of the initial weights and the shuffling")
    arg("--no-shuffle", dest="shuffle", action="store_false", default=argparse.SUPPRESS,
        help="train on the samples in file order every epoch (to compare runs batch by batch)")
    arg("--limit", type=cli.positive_int, default=_DEFAULT.limit, help="train on the first LIMIT "
        "training samples only (the test set stays whole)")
    arg("--out", default=_DEFAULT.out, metavar="DIR", help="write config.json, history.csv/.json, "
        "params and plots (accuracy, cost, samples, confusion) here (worker 0 only)")
    arg("--save", default=_DEFAULT.save, metavar="FILE", help="save the trained params to FILE; "
        "with a dist kvstore worker 0 does, or every worker if FILE contains {rank} (its rank)")
    arg("--load", default=_DEFAULT.load, metavar="FILE", help="start from params saved in FILE")
    arg("--hybridize", dest="hybridize", action="store_true", default=_DEFAULT.hybridize,
        help="compile the net into one graph")
    arg("--no-hybridize", dest="hybridize", action="store_false", default=argparse.SUPPRESS,
        help="run the net imperatively instead (same numbers, slower)")
    arg("--quiet", action="store_true", default=argparse.SUPPRESS,
        help="no progress bar, config or model print-out: just the epoch lines")
    return parser


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
    args = vars(parser.parse_args(argv))
    args.pop("preset")
    return Config(**args)


def main(argv=None):
    """``mxdl-mnist``: flags -> :class:`Config` -> :func:`mxdl.demos.mnist_demo.run`; returns the exit code."""
    return cli.run(_main, argv)


def _main(argv):
    config = parse_config(argv).validate()
    # MXNet reads its threading settings once, when it is imported: choose them for this model first.
    # Horovod's ranks share the machine's cores, so each keeps the one thread of env's defaults.
    if config.dist is None:
        env.configure(config.model)
    from ..demos.mnist_demo import run  # (imports MXNet)
    from ..distributed import launch

    # A dist worker that fails must exit at once (a live kvstore would hang it): see launch.fail_fast.
    with launch.fail_fast():
        run(config)


if __name__ == "__main__":
    raise SystemExit(main())
