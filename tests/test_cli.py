"""Command-line plumbing: one-line errors, flag types, and user errors turned into exit codes."""
import argparse

import pytest

from mxdl import cli
from mxdl.errors import MxdlError


def test_parser_error_is_one_line(capsys):
    parser = cli.ArgumentParser(prog="demo")
    parser.add_argument("--epochs", type=cli.positive_int, default=4)
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(["--epochs", "0"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "demo: error:" in err and "'0'" in err


def test_help_shows_defaults():
    parser = cli.ArgumentParser(prog="demo")
    parser.add_argument("--lr", type=cli.positive_float, default=0.1, help="learning rate")
    assert "default: 0.1" in parser.format_help()


@pytest.mark.parametrize("check, good, bad", [
    (cli.positive_int, ["1", "64"], ["0", "-3", "2.5", "x"]),
    (cli.non_negative_int, ["0", "7"], ["-1", "x"]),
    (cli.positive_float, ["0.1", "1e-3"], ["0", "-0.1", "nan", "inf", "x"]),
    (cli.non_negative_float, ["0", "1e-4"], ["-1e-4", "nan"]),
    (cli.fraction, ["0", "0.9"], ["1", "-0.1"]),
])
def test_flag_types(check, good, bad):
    for text in good:
        check(text)
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError):
            check(text)


def test_run_turns_user_errors_into_one_line(capsys):
    def main(argv):
        raise MxdlError("the learning rate must be a number > 0")

    assert cli.run(main) == 1
    assert capsys.readouterr().err == "error: the learning rate must be a number > 0\n"


def test_run_passes_exit_codes_and_real_bugs():
    assert cli.run(lambda argv: None) == 0
    assert cli.run(lambda argv: 3) == 3
    with pytest.raises(ZeroDivisionError):  # a bug is not a user error: keep its traceback
        cli.run(lambda argv: 1 / 0)
