"""Command-line plumbing shared by the scripts: flag types, one-line errors and a safe ``main`` runner.

Bad input must be a clear message, never a traceback: argparse errors print one line, and every
:class:`~mxdl.errors.MxdlError` raised while running is printed as ``error: ...`` with exit code 1.
"""
import argparse
import os
import sys

from .config import check_float32, check_int, check_seed
from .errors import MxdlError


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows ``(default: X)`` after a flag's help, as pytorch/examples do, except when there is no
    default to show (None, or a switch that is off); the epilog's examples keep their lines."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


class ArgumentParser(argparse.ArgumentParser):
    """argparse with defaults in ``--help`` and one-line errors (``prog: error: ...``, exit 2)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _flag(text, cast, check, **bounds):
    """``cast(text)`` checked by one of the shared validators of :mod:`mxdl.config`, so that a flag's
    error reads like a config's: ``argument --epochs: must be an integer >= 1, got '0'``."""
    try:
        value = cast(text)
    except (TypeError, ValueError):
        value = text  # not a number at all: the check says what it must be
    try:
        return check("", value, **bounds)
    except MxdlError as err:
        message = str(err).strip().replace(f"got {value!r}", f"got {text!r}")
        raise argparse.ArgumentTypeError(message) from None


def positive_int(text):
    """An integer >= 1 (epochs, batch size, sample counts)."""
    return _flag(text, int, check_int, minimum=1)


def non_negative_int(text):
    """An integer >= 0 (seeds)."""
    return _flag(text, int, check_int, minimum=0)


def seed(text):
    """A seed: an integer from 0 to 2**32 - 1 (numpy's limit)."""
    return _flag(text, int, check_seed)


def positive_float(text):
    """A number > 0 that float32 holds (learning rates: MXNet computes in float32)."""
    return _flag(text, float, check_float32, above=0)


def non_negative_float(text):
    """A number >= 0 that float32 holds (weight decay)."""
    return _flag(text, float, check_float32, minimum=0)


def fraction(text):
    """A number in [0, 1) that float32 holds (momentum)."""
    return _flag(text, float, check_float32, minimum=0, below=1)


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
    except BrokenPipeError:
        # The reader went away (``| head``): no traceback, and none at exit either, when Python
        # flushes stdout into the closed pipe (the fix the Python docs give for SIGPIPE).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return 0 if code is None else code
