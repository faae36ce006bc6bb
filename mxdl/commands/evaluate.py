"""Evaluate a trained net on a dataset's test images: accuracy, per-class precision and recall, and
the pictures to look at (the confusion matrix, the worst mistakes).

    mxdl-evaluate --params runs/mnist/logreg.params               # model and dataset: its config.json
    mxdl-evaluate --params runs/mnist/logreg.params --out runs/mnist/eval
    mxdl-evaluate --symbol runs/export/logreg --dataset mnist-t10k

Prints the accuracy and a table of precision, recall and support per class; with ``--out DIR`` also
writes evaluation.json, confusion.png, precision_recall.png and mistakes.png (the wrong answers the
net was surest of).  Nothing is trained: the weights are used as they are.
"""
import argparse

from .. import cli, env
from ..config import DEFAULT_DEVICE
from ..data import DATASETS
from . import _trained


def build_parser():
    parser = cli.ArgumentParser(prog="mxdl-evaluate", description=__doc__.splitlines()[0])
    _trained.add_flags(parser)
    arg = parser.add_argument
    arg("--dataset", choices=DATASETS, default=None, help="the test images to evaluate on (default: "
        "the dataset in the config.json beside --params, else mnist)")
    arg("--data-dir", default=None, metavar="DIR", help="directory holding the IDX files (default: "
        "MXNet's cache, system copies, then a download)")
    arg("--no-download", dest="download", action="store_false", default=argparse.SUPPRESS,
        help="use only data found locally, never download it")
    arg("--mistakes", type=cli.positive_int, default=30, metavar="N",
        help="how many of the worst mistakes to draw")
    arg("--out", default=None, metavar="DIR", help="write evaluation.json, confusion.png, "
        "precision_recall.png and mistakes.png here")
    arg("--ctx", default=DEFAULT_DEVICE, metavar="DEVICE", help="device: cpu, gpu, gpu:N or auto")
    return parser


def main(argv=None):
    """``mxdl-evaluate``: accuracy, per-class precision/recall and pictures of a trained net."""
    return cli.run(_main, argv)


def _main(argv):
    args = build_parser().parse_args(argv)
    if args.params:
        env.configure(_trained.model_for(args))
    from ..context import parse_ctx  # MXNet only once the flags are good
    from ..data import check_data_dir, load_dataset_or_fallback
    from ..evaluation import evaluate_net, write_evaluation

    ctxs = parse_ctx(args.ctx)
    net = _trained.load_net(args, ctxs)
    check_data_dir(args.data_dir)
    dataset, note = load_dataset_or_fallback(args.dataset or _trained.default_dataset(args),
                                             args.data_dir, download=getattr(args, "download", True),
                                             progress=False)
    if note:
        print(note)
    X_test, y_test = dataset.test
    evaluation = evaluate_net(net, X_test, y_test, dataset.classes, ctx=ctxs, num_mistakes=args.mistakes)
    print(f"{dataset.name} test set, {len(y_test)} images: ", end="")
    print(evaluation.format())
    if args.out:
        for name, path in write_evaluation(evaluation, X_test, y_test, args.out).items():
            print(f"wrote {name}: {path}")


if __name__ == "__main__":
    raise SystemExit(main())
