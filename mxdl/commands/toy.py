"""Circles and diamonds: learn the "2" of y = 2x by gradient descent, SGD and mini-batch SGD.

Prints the config, a table (method, batch size, updates per epoch, final w, train/test accuracy) and
writes three PNGs to --out: the data with the lines y = 10x, y = x, y = 2x and the learned one; the
cost as a function of the weight w with its slope; the cost per epoch of the three methods.

    mxdl-toy                                   # the canonical run, PNGs in ./runs/toy/
    mxdl-toy --lr 0.02 --epochs 40 --out /tmp/toy
    python scripts/toy.py ...                  # the same, from a checkout

Everything it does is :mod:`mxdl.demos.toy_demo`; this module only turns flags into a ToyConfig.
"""
from .. import cli
from ..demos.toy_demo import ToyConfig, format_table, run, write_outputs
from ..utils import check_output_dir

DEFAULTS = ToyConfig()


def parse_args(argv=None):
    parser = cli.ArgumentParser(prog="mxdl-toy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=cli.seed, default=DEFAULTS.seed,
                        help="seed for the data, the initialisation and the shuffling")
    parser.add_argument("--ctx", default=DEFAULTS.ctx, help="device: cpu, gpu, gpu:N or auto")
    parser.add_argument("--lr", type=cli.positive_float, default=DEFAULTS.lr, help="learning rate")
    parser.add_argument("--epochs", type=cli.positive_int, default=DEFAULTS.num_epochs,
                        help="number of epochs (passes over the training points)")
    parser.add_argument("--batch-size", type=cli.positive_int, default=DEFAULTS.batch_size,
                        help="the mini-batch size (gradient descent uses every point, SGD one)")
    parser.add_argument("--n", type=cli.positive_int, default=DEFAULTS.n,
                        help="number of points (80%% for training, 20%% for testing)")
    parser.add_argument("--out", default="runs/toy",
                        help="directory for the PNGs (relative paths are relative to the current "
                             "directory)")
    return parser.parse_args(argv)


def main(argv=None):
    """``mxdl-toy``: flags -> :class:`ToyConfig` -> run -> table and PNGs; returns the exit code."""
    return cli.run(_main, argv)


def _main(argv):
    args = parse_args(argv)
    config = ToyConfig(n=args.n, lr=args.lr, num_epochs=args.epochs, batch_size=args.batch_size,
                       seed=args.seed, ctx=args.ctx).validate()
    check_output_dir(args.out)  # before training: a run is never lost to a bad --out
    print(f"config: {config}")
    result = run(config)
    print(format_table(result))
    for path in write_outputs(result, args.out).values():
        print(f"wrote {path}")


if __name__ == "__main__":
    raise SystemExit(main())
