"""Command-line plumbing shared by the scripts: flag types, one-line errors and a safe ``main`` runner.

Bad input must be a clear message, never a traceback: argparse errors print one line, and every
:class:`~mxdl.errors.MxdlError` raised while running is printed as ``error: ...`` with exit code 1.
"""
import argparse
import math
import sys

from .errors import MxdlError


class ArgumentParser(argparse.ArgumentParser):
    """argparse with defaults in ``--help`` and one-line errors (``prog: error: ...``, exit 2)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", argparse.ArgumentDefaultsHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _number(cast, text, what, ok):
    try:
        value = cast(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
    if not ok(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
    return value


def positive_int(text):
    """An integer >= 1 (epochs, batch size, sample counts)."""
    return _number(int, text, "a positive integer", lambda v: v >= 1)


def non_negative_int(text):
    """An integer >= 0 (seeds)."""
    return _number(int, text, "a non-negative integer", lambda v: v >= 0)


def positive_float(text):
    """A finite number > 0 (learning rates)."""
    return _number(float, text, "a positive number", lambda v: v > 0)


def non_negative_float(text):
    """A finite number >= 0 (weight decay)."""
    return _number(float, text, "a number >= 0", lambda v: v >= 0)


def fraction(text):
    """A number in [0, 1) (momentum)."""
    return _number(float, text, "a number in [0, 1)", lambda v: 0 <= v < 1)


def run(main, argv=None):
    """Call ``main(argv)`` and turn user errors into one line on stderr; return the exit code."""
    try:
        code = main(argv)
    except MxdlError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0 if code is None else code
