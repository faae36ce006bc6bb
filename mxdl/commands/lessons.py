"""The slides that had no code: model families, the mini-batch arithmetic, SGD bouncing around, linear vs
logistic regression, backpropagation by hand, overfitting, and the meetup's numbers against a fresh run.

Prints each lesson's numbers and writes one PNG per lesson to --out.

    mxdl-lessons                          # PNGs in ./runs/lessons/, about 30 s on a laptop CPU
    python scripts/lessons.py --out /tmp/lessons

Everything it does is :mod:`mxdl.demos.lessons`; this module only turns flags into a LessonsConfig.
"""
from .. import cli
from ..demos.lessons import LessonsConfig, run, write_outputs

DEFAULTS = LessonsConfig()


def parse_args(argv=None):
    parser = cli.ArgumentParser(prog="mxdl-lessons", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=cli.seed, default=DEFAULTS.seed,
                        help="seed for the toy data, the shuffling and the initial weights")
    parser.add_argument("--epochs", type=cli.positive_int, default=DEFAULTS.num_epochs,
                        help="epochs of the overfitting runs")
    parser.add_argument("--num-train", type=cli.positive_int, default=DEFAULTS.num_train,
                        help="shipped digits the overfitting runs train on")
    parser.add_argument("--wd", type=cli.positive_float, default=DEFAULTS.wd,
                        help="the weight decay compared with none")
    parser.add_argument("--reach-epochs", type=cli.positive_int, default=DEFAULTS.reach_epochs,
                        help="at most this many epochs of the meetup's settings to reach 0.90")
    parser.add_argument("--out", default="runs/lessons", help="directory for the PNGs")
    return parser.parse_args(argv)


def main(argv=None):
    """``mxdl-lessons``: flags -> :class:`LessonsConfig` -> run -> numbers and PNGs; the exit code."""
    return cli.run(_main, argv)


def _main(argv):
    args = parse_args(argv)
    config = LessonsConfig(seed=args.seed, num_epochs=args.epochs, num_train=args.num_train, wd=args.wd,
                           reach_epochs=args.reach_epochs).validate()
    result = run(config)
    for path in write_outputs(result, args.out).values():
        print(f"wrote {path}")


if __name__ == "__main__":
    raise SystemExit(main())
