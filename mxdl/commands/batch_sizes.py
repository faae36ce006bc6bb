"""The batch-size study: the demo's net trained by SGD, mini-batch SGD and gradient descent, side by side.

    mxdl-batch-sizes --dataset mnist-t10k --out runs/batch_sizes
    mxdl-batch-sizes --model mlp --dataset fashion-mnist --limit 2000
    mxdl-batch-sizes --lr 0.1                  # one fixed learning rate for every batch size

Every batch size trains for the same number of epochs from the same initial weights.  By default the
learning rate is picked per batch size from a small grid (lowest final training cost among the runs
whose cost never rose above 1.5x its lowest so far), because the
best rate grows with the batch size; ``--lr`` fixes it instead.  Everything it does is
:mod:`mxdl.demos.batch_size_study` (``run`` and ``write_outputs``); this module turns flags into its
StudyConfig.
"""
import argparse
import sys

from .. import cli
from ..config import DEFAULT_DEVICE
from ..data import DATASETS
from ..demos.batch_size_study import DEFAULT_LIMIT, DEFAULT_LR_GRID, StudyConfig, run, write_outputs
from ..models import list_models
from ..utils import check_output_dir


def batch_size_list(text):
    """argparse type for --batch-sizes: comma-separated positive integers and 'full' (-> None, GD)."""
    sizes = []
    for item in text.split(","):
        item = item.strip().lower()
        try:
            size = None if item == "full" else cli.positive_int(item)
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(f"{item!r} is not a batch size: give positive integers "
                                             "or 'full', e.g. 1,8,64,512,full") from None
        if size in sizes:
            raise argparse.ArgumentTypeError(f"batch size {item} is listed twice")
        sizes.append(size)
    return sizes


def lr_list(text):
    """argparse type for --lr-grid: comma-separated learning rates > 0."""
    lrs = [cli.positive_float(item.strip()) for item in text.split(",")]
    if len(set(lrs)) != len(lrs):
        raise argparse.ArgumentTypeError(f"a learning rate is listed twice in {text!r}")
    return lrs


def build_parser():
    parser = cli.ArgumentParser(prog="mxdl-batch-sizes", description=__doc__.splitlines()[0])
    arg = parser.add_argument
    arg("--model", choices=list_models(), default="logreg", help="the net")
    arg("--dataset", choices=DATASETS, default="mnist",
        help="mnist falls back to the shipped mnist-t10k when it can be neither found nor downloaded")
    arg("--data-dir", default=None, metavar="DIR", help="directory holding the IDX files")
    arg("--batch-sizes", type=batch_size_list, default="1,8,64,512,full", metavar="LIST",
        help="batch sizes to compare; 'full' is the whole training set (gradient descent)")
    arg("--epochs", dest="num_epochs", type=cli.positive_int, default=4, metavar="N",
        help="epochs per run (the same for every batch size)")
    lr = parser.add_mutually_exclusive_group()
    lr.add_argument("--lr", type=cli.positive_float, default=None,
                    help="one fixed learning rate for every batch size (instead of --lr-grid)")
    lr.add_argument("--lr-grid", type=lr_list, default=",".join(f"{x:g}" for x in DEFAULT_LR_GRID),
                    metavar="LIST", help="learning rates to try per batch size; the one with the "
                    "lowest final training cost is reported, among the runs whose training cost "
                    "never rose above 1.5x its lowest so far")
    arg("--limit", type=cli.positive_int, default=DEFAULT_LIMIT,
        help="use only the first LIMIT training samples, so that batch size 1 stays affordable "
        "(more than the data set has: all of them)")
    arg("--seed", type=cli.seed, default=1, help="seed of the initial weights and shuffling")
    arg("--ctx", default=DEFAULT_DEVICE, help="device(s): cpu, gpu, gpu:N, auto")
    arg("--out", default=None, metavar="DIR",
        help="write batch_sizes.csv/.json and the plots batch_sizes.png, lr_batch_heatmap.png here")
    arg("--quiet", action="store_true", help="print only the table (and, on stderr, a data fallback)")
    return parser


def main(argv=None):
    """``mxdl-batch-sizes``: flags -> StudyConfig -> run -> table, CSV/JSON and plots; returns the exit code."""
    return cli.run(_main, argv)


def _main(argv):
    args = build_parser().parse_args(argv)
    log = None if args.quiet else print
    config = StudyConfig(model=args.model, dataset=args.dataset, data_dir=args.data_dir,
                         batch_sizes=tuple(args.batch_sizes),
                         lrs=(args.lr,) if args.lr is not None else tuple(args.lr_grid),
                         num_epochs=args.num_epochs, limit=args.limit, seed=args.seed,
                         ctx=args.ctx).validate()
    if args.out:
        check_output_dir(args.out)  # before the study: a run is never lost to a bad --out
    if log:
        log(f"config: {config}")
    result = run(config, log=log, warn=lambda note: print(note, file=sys.stderr))  # said even with --quiet
    print(result.study.table())
    if args.out:
        for name, path in write_outputs(result, args.out).items():
            if log:
                log(f"wrote {name}: {path}")


if __name__ == "__main__":
    raise SystemExit(main())
