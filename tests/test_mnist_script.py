"""scripts/mnist.py: the meetup demo's command line, end to end on tiny IDX files, and every bad input.

The end-to-end test runs the real script in a subprocess; the bad-input tests call its ``main``
through :func:`mxdl.cli.run` in-process (exactly what the script's ``__main__`` does), to stay fast.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest
from matplotlib.figure import Figure

from mxdl.config import PRESETS, Config
from mxdl.data import load_dataset
from mxdl.errors import MxdlError
from mxdl.models import get_model
from mxdl.plots import training as plots
from mxdl.train import EpochStats, History, evaluate
from mxdl.utils import load_params, save_params

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "mnist.py"
EPOCH_LINE = re.compile(r"^Epoch (\d+)\. Loss (\d+\.\d+), Train_acc (\d\.\d+), Test_acc (\d\.\d+) "
                        r"\(\d+\.\d\d s, \d+ samples/s\)$")
OUTPUTS = ("config.json", "history.csv", "history.json", "logreg.params", "accuracy.png", "cost.png",
           "samples.png", "confusion.png")


@pytest.fixture(scope="module")
def script():
    """The namespace of the command behind scripts/mnist.py (mxdl-mnist)."""
    from mxdl.commands import mnist as command
    return vars(command)


def assert_one_line_error(code, err, *needles):
    assert code != 0
    assert err.count("\n") == 1, err
    assert "Traceback" not in err and "error:" in err
    for needle in needles:
        assert needle in err, err


def test_cli_end_to_end_on_tiny_idx_files(make_idx_dataset, tmp_path):
    """The real command line on a learnable 600/200-image IDX dataset: lines, outputs, accuracy."""
    data_dir = make_idx_dataset(n_train=600, n_test=200)
    out, save = tmp_path / "run", tmp_path / "saved.params"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--data-dir", str(data_dir), "--no-download", "--epochs", "3",
         "--out", str(out), "--save", str(save), "--quiet"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "MXNET_HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    lines = [m for m in map(EPOCH_LINE.match, proc.stdout.splitlines()) if m]
    assert [int(m.group(1)) for m in lines] == [1, 2, 3]
    costs = [float(m.group(2)) for m in lines]
    test_acc = float(lines[-1].group(4))
    assert costs[0] > costs[1] > costs[2]
    assert test_acc >= 0.9  # measured 0.975-0.985 over seeds 1-3
    for name in OUTPUTS:
        assert (out / name).stat().st_size > 0, name
    for name in ("accuracy.png", "cost.png", "samples.png", "confusion.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    config = json.loads((out / "config.json").read_text())
    assert config["dataset"] == "mnist" and config["init"] == "normal:0.01" and config["num_epochs"] == 3
    history = json.loads((out / "history.json").read_text())
    assert [row["test_acc"] for row in history][-1] == pytest.approx(test_acc, abs=1e-4)
    assert len((out / "history.csv").read_text().splitlines()) == 4  # header + 3 epochs
    # The saved params are the trained net: they reproduce the printed test accuracy.
    net = get_model("logreg")
    load_params(net, save)
    test = load_dataset("mnist", data_dir, download=False).test
    assert evaluate(net, *test)[1] == pytest.approx(test_acc, abs=1e-4)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_defaults_are_the_meetup_hyperparameters_and_the_preset_is_the_demo(script):
    config = script["parse_config"]([])
    assert (config.model, config.lr, config.batch_size, config.num_epochs) == ("logreg", 0.1, 64, 4)
    assert (config.momentum, config.wd, config.init, config.hybridize) == (0.0, 0.0, None, True)
    meetup = script["parse_config"](["--preset", "meetup"])
    assert meetup == Config.from_preset("meetup")
    assert meetup.init == "normal:1" and meetup.dataset == "mnist"
    # Explicit flags win over the preset.
    assert script["parse_config"](["--preset", "meetup", "--lr", "0.05"]).lr == 0.05
    assert script["parse_config"](["--no-hybridize", "--quiet"]).hybridize is False
    assert set(PRESETS["meetup"]) <= set(Config().to_dict())


def test_config_validation_and_json_round_trip(tmp_path):
    config = Config(model="mlp", init="xavier", seed=3, limit=100)
    config.to_json(tmp_path / "config.json")
    assert Config.from_json(tmp_path / "config.json") == config
    for bad in (dict(batch_size=0), dict(num_epochs=0), dict(lr=-1.0), dict(lr=float("nan")),
                dict(momentum=1.0), dict(model="resnet"), dict(dataset="cifar"), dict(init="normal:0"),
                dict(kvstore="nccl"), dict(limit=0)):
        with pytest.raises(MxdlError):
            Config(**bad).validate()


@pytest.mark.parametrize("argv, needle", [
    (["--batch-size", "0"], "--batch-size"),
    (["--lr", "-1"], "--lr"),
    (["--epochs", "0"], "--epochs"),
    (["--model", "resnet"], "--model"),
    (["--dataset", "cifar"], "--dataset"),
    (["--init", "gaussian"], "--init"),
    (["--init", "normal:x"], "--init"),
    (["--momentum", "1.5"], "--momentum"),
    (["--kvstore", "nccl"], "--kvstore"),
    (["--ctx", "gpu"], "no GPU"),
    (["--ctx", "tpu"], "unknown device"),
    (["--kvstore", "dist_sync"], "distributed launch"),
])
def test_bad_flag_values_are_one_line_errors(run_main, tmp_path, argv, needle):
    code, out, err = run_main("mnist.py", ["--dataset", "mnist-t10k", "--quiet", *argv])
    assert_one_line_error(code, err, needle)
    assert "Epoch" not in out  # refused before any training


def test_missing_data_dir_is_an_error_not_a_fallback(run_main, tmp_path):
    code, out, err = run_main("mnist.py", ["--data-dir", tmp_path / "nowhere", "--quiet"])
    assert_one_line_error(code, err, "nowhere", "not a directory")
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = run_main("mnist.py", ["--data-dir", empty, "--no-download", "--quiet"])
    assert_one_line_error(code, err, "not found", str(empty))
    assert "mnist-t10k instead" not in out


def test_mnist_nowhere_falls_back_to_the_embedded_real_digits(run_main, tmp_path, monkeypatch):
    monkeypatch.setenv("MXNET_HOME", str(tmp_path / "mxnet-home"))  # an empty cache
    out_dir = tmp_path / "run"
    code, out, err = run_main("mnist.py", ["--no-download", "--limit", "640", "--epochs", "1", "--quiet",
                                           "--out", out_dir])
    assert code == 0, err
    notes = [line for line in out.splitlines() if "mnist-t10k" in line]
    assert len(notes) == 1 and "MNIST not found" in notes[0]
    assert json.loads((out_dir / "config.json").read_text())["dataset"] == "mnist-t10k"
    (epoch,) = [m for m in map(EPOCH_LINE.match, out.splitlines()) if m]
    assert float(epoch.group(4)) > 0.5  # 10 updates on real digits: well above chance (0.1)


def test_corrupt_mnist_file_is_an_error_never_a_fallback(run_main, tmp_path, monkeypatch, make_idx_dataset):
    home = tmp_path / "mxnet-home"
    data_dir = make_idx_dataset(n_train=100, n_test=50, name="mxnet-home/datasets/mnist")
    images = data_dir / "train-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:-100])  # cut off: a truncated download
    monkeypatch.setenv("MXNET_HOME", str(home))
    code, out, err = run_main("mnist.py", ["--no-download", "--quiet"])
    assert_one_line_error(code, err, "train-images-idx3-ubyte.gz")
    assert "mnist-t10k" not in out


def test_diverging_lr_stops_with_a_clear_message(run_main):
    # SoftmaxCrossEntropyLoss is computed stably (log-softmax): logreg's cost stays finite even at
    # lr 1e4 (measured: 7888, then 2941); the MLP's ReLU activations overflow to NaN in epoch 1.
    code, out, err = run_main("mnist.py", ["--dataset", "mnist-t10k", "--model", "mlp", "--lr", "1e4",
                                           "--limit", "640", "--quiet"])
    assert_one_line_error(code, err, "epoch 1", "lower")
    assert "nan" in err or "inf" in err


def test_corrupt_or_mismatched_params_are_one_line_errors(run_main, tmp_path):
    mlp_params, corrupt = tmp_path / "mlp.params", tmp_path / "corrupt.params"
    save_params(get_model("mlp"), mlp_params)
    corrupt.write_bytes(mlp_params.read_bytes()[:1000])
    for params in (mlp_params, corrupt, tmp_path / "missing.params"):
        code, out, err = run_main("mnist.py", ["--dataset", "mnist-t10k", "--limit", "640", "--quiet",
                                               "--load", params])
        assert_one_line_error(code, err, str(params))
        assert "Epoch" not in out


def test_load_resumes_from_saved_params(run_main, tmp_path):
    saved = tmp_path / "logreg.params"
    argv = ["--dataset", "mnist-t10k", "--limit", "640", "--epochs", "1", "--quiet"]
    assert run_main("mnist.py", [*argv, "--save", saved])[0] == 0
    net = get_model("logreg")
    load_params(net, saved)
    code, out, _ = run_main("mnist.py", [*argv, "--load", saved, "--lr", "1e-9"])
    # With a negligible lr the loaded net is what gets evaluated: its accuracy, not a fresh one's.
    expected = evaluate(net, *load_dataset("mnist-t10k").test)[1]
    assert code == 0 and float(EPOCH_LINE.match(out.strip()).group(4)) == pytest.approx(expected, abs=1e-3)


def test_an_interrupted_save_never_replaces_the_last_good_file(tmp_path, monkeypatch):
    path = tmp_path / "net.params"
    net = get_model("logreg")
    save_params(net, path)
    good = path.read_bytes()

    def save_half_then_fail(self, filename, *args, **kwargs):
        with open(filename, "wb") as f:
            f.write(good[: len(good) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(mx.gluon.Block, "save_parameters", save_half_then_fail)
    with pytest.raises(OSError):
        save_params(get_model("logreg", init="normal:1"), path)
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["net.params"]  # the temporary file is gone


def test_only_worker_0_writes_outputs(tmp_path, monkeypatch):
    """With a dist kvstore, workers other than rank 0 train but write nothing."""
    import mxdl.demos.mnist_demo

    monkeypatch.setattr(mxdl.demos.mnist_demo, "make_kvstore", lambda name, dist=None: mx.kv.create("local"))
    monkeypatch.setattr(mx.kvstore.KVStore, "rank", property(lambda self: 1))
    config = Config(dataset="mnist-t10k", limit=640, num_epochs=1, quiet=True, out=str(tmp_path / "out"),
                    save=str(tmp_path / "saved.params"))
    result = mxdl.demos.mnist_demo.run(config, log=lambda line: None)
    assert len(result.history) == 1 and result.outputs == {}
    assert list(tmp_path.iterdir()) == []


def test_plots_take_data_and_an_optional_ax():
    history = History([EpochStats(1, 0.9, 0.8, 0.85, 10, 1.0, 100.0),
                       EpochStats(2, 0.5, 0.9, 0.91, 10, 1.0, 100.0)])
    y, y_pred = np.array([0, 1, 2, 2, 9]), np.array([0, 1, 2, 3, 9])
    counts = plots.confusion_matrix(y, y_pred)
    assert counts.shape == (10, 10) and counts.sum() == 5 and counts[2, 3] == 1 and counts[2, 2] == 1
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.plot_cost(history, ax=ax) is fig
    samples = plots.plot_samples(np.random.rand(5, 1, 28, 28), y, y_pred)
    texts = [t for t in samples.axes[0].texts]
    assert [t.get_text() for t in texts][3] == "3\n(true 2)"  # the wrong one says what it should be
    assert texts[3].get_color() != texts[0].get_color() and len(samples.axes[0].patches) == 1
    accuracy = plots.plot_accuracy(history).axes[0]
    train_line, test_line = accuracy.get_lines()
    assert list(train_line.get_xdata()) == [1, 2] and list(train_line.get_ydata()) == [0.8, 0.9]
    assert list(test_line.get_ydata()) == [0.85, 0.91]
    confusion = plots.plot_confusion(y, y_pred, list("abcdefghij")).axes[0]
    np.testing.assert_array_equal(confusion.get_images()[0].get_array(), counts)
    assert [t.get_text() for t in confusion.get_yticklabels()] == list("abcdefghij")
    assert confusion.get_title() == "confusion matrix (accuracy 0.8000)"  # 4 of the 5 right
