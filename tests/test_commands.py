"""The house: commands with console entry points, thin scripts, one set of validators, devices parsed once."""
import configparser
import importlib
import subprocess
import sys
from pathlib import Path

import mxnet as mx
import pytest

from mxdl import config as validators
from mxdl.config import Config
from mxdl.context import devices, parse_ctx
from mxdl.demos.batch_size_study import StudyConfig
from mxdl.demos.toy_demo import ToyConfig
from mxdl.errors import ContextError, MxdlError
from mxdl.train import Settings

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("mnist", "toy", "batch_sizes", "predict", "evaluate", "lessons")


def _console_scripts():
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    lines = parser["options.entry_points"]["console_scripts"].strip().splitlines()
    return dict(line.replace(" ", "").split("=") for line in lines)


def test_every_command_is_a_console_script_and_a_thin_script():
    scripts = _console_scripts()
    assert set(scripts) == {"mxdl-mnist", "mxdl-toy", "mxdl-batch-sizes", "mxdl-predict", "mxdl-evaluate",
                            "mxdl-lessons"}
    for name, target in scripts.items():
        module, function = target.split(":")
        assert callable(getattr(importlib.import_module(module), function)), target
        stem = module.rsplit(".", 1)[1]
        assert name == "mxdl-" + stem.replace("_", "-")
        wrapper = (ROOT / "scripts" / f"{stem}.py").read_text()
        code = [line for line in wrapper.splitlines() if line.strip() and not line.startswith(("#", '"""'))]
        assert code == [f"from mxdl.commands.{stem} import main", 'if __name__ == "__main__":',
                        "    raise SystemExit(main())"], stem


@pytest.mark.parametrize("stem", COMMANDS)
def test_python_dash_m_runs_the_command(stem):
    result = subprocess.run([sys.executable, "-m", f"mxdl.commands.{stem}", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: mxdl-{stem.replace('_', '-')}")


def test_main_returns_the_exit_code_of_a_user_error(capsys):
    from mxdl.commands import toy

    assert toy.main(["--ctx", "tpu"]) == 1
    assert capsys.readouterr().err.startswith("error: unknown device 'tpu'")


@pytest.mark.parametrize("make, message", [
    (lambda: Config(lr=-1.0).validate(), "lr must be a number > 0, got -1.0"),
    (lambda: ToyConfig(lr=-1.0).validate(), "lr must be a number > 0, got -1.0"),
    (lambda: StudyConfig(lrs=(0.1, -1.0)).validate(), "lrs must be a number > 0, got -1.0"),
    (lambda: Settings(num_epochs=1, batch_size=1, lr=-1.0).validate(10), "lr must be a number > 0, got -1.0"),
    (lambda: Config(num_epochs=0).validate(), "num_epochs must be an integer >= 1, got 0"),
    (lambda: ToyConfig(num_epochs=0).validate(), "num_epochs must be an integer >= 1, got 0"),
    (lambda: StudyConfig(num_epochs=0).validate(), "num_epochs must be an integer >= 1, got 0"),
    (lambda: Settings(num_epochs=0, batch_size=1, lr=0.1).validate(10), "num_epochs must be an integer >= 1, got 0"),
    (lambda: Config(momentum=1.0).validate(), r"momentum must be a number in \[0, 1\), got 1.0"),
    (lambda: Config(model="resnet").validate(), "model must be one of logreg, mlp, lenet, got 'resnet'"),
    (lambda: StudyConfig(model="resnet").validate(), "model must be one of logreg, mlp, lenet, got 'resnet'"),
    (lambda: Settings(num_epochs=1, batch_size=11, lr=0.1).validate(10),
     r"batch_size must be an integer from 1 to the number of training samples \(10\), or None"),
    (lambda: Config(seed=True).validate(), "seed must be an integer from 0 to 4294967295, got True"),
])
def test_every_config_speaks_with_the_shared_validators(make, message):
    with pytest.raises(MxdlError, match=message):
        make()


def test_validators_accept_what_they_should():
    assert validators.check_int("n", 3, 1, 3) == 3
    assert validators.check_number("lr", 1e-3, above=0) == 1e-3
    assert validators.check_number("momentum", 0, minimum=0, below=1) == 0
    assert validators.check_batch_size("batch_size", None, 5) is None
    for bad in (float("nan"), float("inf"), "0.1", None):
        with pytest.raises(MxdlError, match="lr must be a number > 0"):
            validators.check_number("lr", bad, above=0)


def test_library_functions_take_contexts_as_given():
    assert devices(ctx=mx.cpu()) == [mx.cpu()]
    assert devices(ctx=parse_ctx("cpu:0,cpu:1")) == [mx.cpu(0), mx.cpu(1)]
    with pytest.raises(ContextError, match="parse a device flag once"):
        devices(ctx="cpu")  # a flag is parsed at the boundary, not in the library
