"""Classify images with a trained net: the demo's last step, y_hat for inputs the net has not seen.

    mxdl-predict --params runs/mnist/logreg.params digit.png      # the model: runs/mnist/config.json
    mxdl-predict --model logreg --params logreg.params digit.png
    mxdl-predict --symbol runs/export/logreg digit.png             # a net exported with --export
    mxdl-predict --params runs/mnist/logreg.params --idx t10k-images-idx3-ubyte.gz --index 0 1 2

Pictures (PNG/JPEG, any size) are prepared as MNIST's digits were: grey, white on black, cropped to
the digit, scaled to fit 20x20 and centred by mass in 28x28 (``--no-center``: only padded to a square
and resized to 28x28).  ``--idx`` takes samples from an IDX image file, used as they are.  One line
per input: the predicted class and its probability.  A picture that cannot be read does not stop
the others: they are printed, then one error line names the bad ones, and the exit code is 1.
"""
import numpy as np

from .. import cli
from ..config import DEFAULT_DEVICE
from ..data import DATASETS, load_each, read_images, to_X
from ..data.sources import get_spec
from ..errors import MxdlError
from . import _trained


def build_parser():
    parser = cli.ArgumentParser(prog="mxdl-predict", description=__doc__.splitlines()[0])
    arg = parser.add_argument
    arg("images", nargs="*", metavar="IMAGE", help="picture files to classify")
    _trained.add_flags(parser)
    arg("--idx", metavar="FILE", help="an IDX image file (raw or .gz) to take samples from")
    arg("--index", type=cli.non_negative_int, nargs="+", metavar="I", help="which samples of --idx")
    arg("--dataset", choices=DATASETS, default=None, help="the dataset the net was trained on, for "
        "the class names (default: the config.json beside --params, else mnist)")
    arg("--no-center", action="store_true", help="do not crop, scale to 20x20 and centre the digit in "
        "each picture as MNIST's were: only pad it to a square and resize it to 28x28")
    arg("--ctx", default=DEFAULT_DEVICE, help="device: cpu, gpu, gpu:N or auto")
    return parser


def read_inputs(args):
    """``(names, X, bad)``: a name for each input, X of shape (N, 1, 28, 28) in [0, 1] (None if no
    input could be read) and the error message of each picture that could not be read."""
    names, parts, bad = [], [], []
    for path, X in load_each(args.images, mnist_style=not args.no_center):
        if isinstance(X, MxdlError):
            bad.append(str(X))
        else:
            names.append(path)
            parts.append(X)
    if args.idx:
        images = read_images(args.idx)
        out_of_range = [i for i in args.index if i >= len(images)]
        if out_of_range:
            raise MxdlError(f"--index {out_of_range[0]} is out of range: {args.idx} holds {len(images)} images "
                            f"(indices 0..{len(images) - 1})")
        names += [f"{args.idx}[{i}]" for i in args.index]
        parts.append(to_X(images[args.index]))
    return names, (np.concatenate(parts) if parts else None), bad


def describe(name, label, probability, classes):
    """``digit.png: 7 (probability 0.982)``, or ``... Sneaker (class 7, probability 0.982)``."""
    what = classes[label]
    which = "" if what == str(label) else f"class {label}, "
    return f"{name}: {what} ({which}probability {probability:.3f})"


def main(argv=None):
    """``mxdl-predict``: classify pictures or IDX samples with saved params; returns the exit code."""
    return cli.run(_main, argv)


def _main(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.images and not args.idx:
        parser.error("give image files, or --idx FILE --index I [I ...]")
    if bool(args.idx) != bool(args.index):
        parser.error("--idx FILE and --index I [I ...] go together")
    from ..context import parse_ctx  # MXNet only once the flags are good
    from ..demos.mnist_demo import classify
    classes = get_spec(args.dataset or _trained.default_dataset(args)).classes
    net = _trained.load_net(args, parse_ctx(args.ctx))
    names, X, bad = read_inputs(args)
    if X is not None:  # the good inputs are classified even when others are bad
        labels, probabilities = classify(net, X)
        for name, label, probability in zip(names, labels, probabilities):
            print(describe(name, label, probability, classes), flush=True)
    if bad:
        raise MxdlError(f"{len(bad)} of {len(bad) + len(names)} inputs could not be classified: "
                        + "; ".join(bad))


if __name__ == "__main__":
    raise SystemExit(main())
