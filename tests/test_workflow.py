"""A practitioner's second day, through the real command lines (mxdl-mnist, -evaluate, -predict):
resume, checkpoints, evaluate-only, export, optimisers and schedules, logging, dry runs,
TensorBoard and report.html.  Tiny learnable IDX files; every run seeded."""
import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest

from mxdl.checkpoint import load_checkpoint
from mxdl.data.sources import embedded_dir

ROOT = Path(__file__).resolve().parents[1]
EPOCH_LINE = re.compile(r"^Epoch (\d+)\. Loss (\d+\.\d+), Train_acc (\d\.\d+), Test_acc (\d\.\d+) ")
IDX = str(embedded_dir("mnist-t10k") / "t10k-images-idx3-ubyte.gz")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    from conftest import write_idx_dataset
    return write_idx_dataset(tmp_path_factory.mktemp("idx"), 320, 100)


def _train(run_main, data_dir, *argv):
    code, out, err = run_main("mnist.py", ["--data-dir", data_dir, "--no-download", "--quiet", *argv])
    assert code == 0, err
    return out


def _epochs(out):
    return [m.groups() for m in map(EPOCH_LINE.match, out.splitlines()) if m]


def _params(path):
    return {k: v.asnumpy() for k, v in mx.nd.load(str(path)).items()}


@pytest.mark.slow
@pytest.mark.parametrize("flags", [
    ["--model", "mlp", "--momentum", "0.9", "--lr", "0.05", "--no-shuffle"],  # the case
    ["--model", "mlp", "--optimizer", "adam", "--lr", "0.01", "--lr-schedule", "factor",
     "--lr-factor", "0.5"],  # shuffled, Adam's moments and a schedule: still the same run
])
def test_four_epochs_then_resume_four_more_equals_eight_in_one_go(run_main, data_dir, tmp_path, flags):
    first, whole = tmp_path / "first", tmp_path / "whole"
    _train(run_main, data_dir, *flags, "--epochs", "4", "--out", first)
    resumed = _train(run_main, data_dir, "--resume", first, "--epochs", "8")  # flags from the checkpoint
    at_once = _train(run_main, data_dir, *flags, "--epochs", "8", "--out", whole)
    assert [e[0] for e in _epochs(resumed)] == ["5", "6", "7", "8"]
    assert _epochs(resumed) == _epochs(at_once)[4:]
    expected = _params(whole / "mlp.params")
    for name, value in _params(first / "mlp.params").items():
        np.testing.assert_allclose(value, expected[name], rtol=1e-5, atol=1e-6, err_msg=name)
    history = json.loads((first / "history.json").read_text())
    assert [h["epoch"] for h in history] == list(range(1, 9))  # the history goes on, whole
    assert [h["cost"] for h in history] == pytest.approx(
        [h["cost"] for h in json.loads((whole / "history.json").read_text())], rel=1e-5)
    assert load_checkpoint(first).epoch == 8


def test_checkpoint_every_n_epochs_and_the_last(run_main, data_dir, tmp_path, monkeypatch):
    import mxdl.checkpoint
    saved = []
    real = mxdl.checkpoint.save_checkpoint
    monkeypatch.setattr(mxdl.checkpoint, "save_checkpoint",
                        lambda path, *a, **k: saved.append(k["epoch"]) or real(path, *a, **k))
    _train(run_main, data_dir, "--epochs", "5", "--checkpoint-every", "2", "--out", tmp_path / "run")
    assert saved == [2, 4, 5]
    checkpoint = load_checkpoint(tmp_path / "run" / "checkpoint.ckpt")
    assert checkpoint.epoch == 5 and len(checkpoint.history) == 5
    assert checkpoint.config["checkpoint_every"] == 2 and checkpoint.data["input_shape"] == [1, 28, 28]


@pytest.mark.parametrize("argv, needle", [
    (["--model", "mlp", "--epochs", "4"], "cannot resume from"),
    (["--optimizer", "adam", "--epochs", "4"], "optimizer 'sgd' (this run: 'adam')"),
    (["--epochs", "2"], "has already trained 2 epoch(s): give --epochs N with N > 2"),
    (["--epochs", "4", "--load", "x.params"], "--resume and --load do not go together"),
])
def test_resuming_with_an_incompatible_config_is_one_clear_error(run_main, data_dir, tmp_path, argv, needle):
    _train(run_main, data_dir, "--epochs", "2", "--out", tmp_path / "run")
    code, out, err = run_main("mnist.py", ["--resume", tmp_path / "run", *argv])
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: ") and needle in err, err
    code, out, err = run_main("mnist.py", ["--resume", tmp_path / "nothing"])
    assert code == 1 and "does not exist" in err and "Traceback" not in err


def test_evaluate_prints_accuracy_and_per_class_precision_recall(run_main, data_dir, tmp_path):
    out = _train(run_main, data_dir, "--epochs", "2", "--out", tmp_path / "run")
    test_acc = float(_epochs(out)[-1][3])
    code, printed, err = run_main("evaluate.py", ["--params", tmp_path / "run" / "logreg.params",
                                                  "--data-dir", data_dir, "--out", tmp_path / "eval"])
    assert code == 0, err
    lines = printed.splitlines()
    assert lines[0].startswith("mnist test set, 100 images: accuracy ")
    assert float(lines[0].split("accuracy ")[1].split()[0]) == pytest.approx(test_acc, abs=1e-4)
    assert lines[1].split() == ["class", "precision", "recall", "support"]
    rows = [line.split() for line in lines[2:12]]
    assert [r[0] for r in rows] == [str(k) for k in range(10)] and sum(int(r[3]) for r in rows) == 100
    for name in ("evaluation.json", "confusion.png", "precision_recall.png", "mistakes.png"):
        assert (tmp_path / "eval" / name).stat().st_size > 0
    saved = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    assert np.trace(saved["confusion"]) == round(test_acc * 100)


def test_export_then_predict_symbol_gives_the_trained_nets_predictions(run_main, data_dir, tmp_path):
    _train(run_main, data_dir, "--model", "mlp", "--epochs", "2", "--out", tmp_path / "run",
           "--export", tmp_path / "export" / "mlp")
    assert sorted(p.name for p in (tmp_path / "export").iterdir()) == ["mlp-0000.params", "mlp-symbol.json"]
    indices = [str(i) for i in range(12)]
    # --params without --model: the model comes from the config.json beside the params.
    code, from_params, err = run_main("predict.py", ["--params", tmp_path / "run" / "mlp.params",
                                                     "--idx", IDX, "--index", *indices])
    assert code == 0, err
    code, from_symbol, err = run_main("predict.py", ["--symbol", tmp_path / "export" / "mlp",
                                                     "--idx", IDX, "--index", *indices])
    assert code == 0, err
    assert from_symbol == from_params and len(from_symbol.splitlines()) == 12


def test_predict_params_without_model_or_config_falls_back_to_logreg(run_main, data_dir, tmp_path):
    _train(run_main, data_dir, "--model", "mlp", "--epochs", "1", "--save", tmp_path / "lone.params")
    code, out, err = run_main("predict.py", ["--params", tmp_path / "lone.params", "--idx", IDX, "--index", "0"])
    assert code == 1 and "does not fit" in err  # logreg, the fallback, is not what was saved
    code, out, err = run_main("predict.py", ["--params", tmp_path / "lone.params", "--model", "mlp",
                                             "--idx", IDX, "--index", "0"])
    assert code == 0 and out.startswith(f"{IDX}[0]: ")


@pytest.mark.slow
def test_optimizers_and_schedules_from_mxnet_and_the_lr_in_the_history(run_main, data_dir, tmp_path):
    out = _train(run_main, data_dir, "--optimizer", "nag", "--momentum", "0.9", "--lr", "0.05",
                 "--lr-schedule", "multifactor", "--lr-steps", "1", "2", "--lr-factor", "0.5",
                 "--epochs", "3", "--out", tmp_path / "run")
    assert float(_epochs(out)[-1][3]) > 0.8
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [h["lr"] for h in history] == pytest.approx([0.05, 0.025, 0.0125])
    assert (tmp_path / "run" / "lr.png").stat().st_size > 0
    out = _train(run_main, data_dir, "--optimizer", "adam", "--lr", "0.01", "--lr-schedule", "cosine",
                 "--warmup-epochs", "1", "--epochs", "3", "--out", tmp_path / "adam")
    lrs = [h["lr"] for h in json.loads((tmp_path / "adam" / "history.json").read_text())]
    assert lrs[0] == pytest.approx(0.01) and lrs[0] > lrs[1] > lrs[2] == pytest.approx(0, abs=1e-9)
    code, out, err = run_main("mnist.py", ["--optimizer", "adam", "--momentum", "0.9"])
    assert code == 1 and "optimizer adam takes no --momentum" in err
    code, out, err = run_main("mnist.py", ["--optimizer", "adamw"])
    assert code == 2 and "invalid choice" in err


def test_log_interval_lines_without_a_progress_bar(run_main, data_dir):
    # 320 samples in batches of 32: 10 batches, a line after batches 4 and 8.  stderr is not a
    # terminal here, so there is no progress bar even without --quiet.
    code, out, err = run_main("mnist.py", ["--data-dir", data_dir, "--no-download", "--epochs", "1",
                                           "--batch-size", "32", "--log-interval", "4"])
    assert code == 0, err
    lines = [line for line in out.splitlines() if line.startswith("epoch 1 [")]
    assert [line.split(" cost ")[0] for line in lines] == ["epoch 1 [128/320 (40%)]", "epoch 1 [256/320 (80%)]"]
    costs = [float(line.split(" cost ")[1]) for line in lines]
    assert all(c > 0 for c in costs) and "samples/s" not in err and "epoch 1:" not in err


def test_dry_run_trains_one_batch_and_writes_nothing(run_main, data_dir, tmp_path):
    code, out, err = run_main("mnist.py", ["--data-dir", data_dir, "--no-download", "--dry-run",
                                           "--out", tmp_path / "run", "--export", tmp_path / "x",
                                           "--epochs", "5", "--batch-size", "16"])
    assert code == 0, err
    assert "dry run: 1 batch of 16 training and 16 test samples, nothing written" in out
    assert [e[0] for e in _epochs(out)] == ["1"]
    assert list(tmp_path.iterdir()) == []


def test_tensorboard_scalars_read_back_with_tensorboards_reader(run_main, data_dir, tmp_path):
    pytest.importorskip("tensorboardX", reason="the tensorboard extra is not installed")
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    from mxdl.tensorboard_log import read_scalars
    out = _train(run_main, data_dir, "--epochs", "2", "--batch-size", "32", "--log-interval", "5",
                 "--tensorboard", tmp_path / "tb")
    scalars = read_scalars(tmp_path / "tb")
    assert [step for step, _ in scalars["epoch/cost"]] == [1, 2]
    assert [v for _, v in scalars["epoch/test_acc"]] == pytest.approx([float(e[3]) for e in _epochs(out)],
                                                                      abs=1e-4)
    assert [v for _, v in scalars["epoch/lr"]] == pytest.approx([0.1, 0.1])
    assert [step for step, _ in scalars["batch/cost"]] == [5, 10, 15, 20]
    assert {"epoch/train_acc", "epoch/samples_per_sec"} <= set(scalars)


def test_every_run_writes_a_self_contained_report(run_main, data_dir, tmp_path):
    out = _train(run_main, data_dir, "--epochs", "2", "--out", tmp_path / "run")
    text = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    sources = re.findall(r"<img [^>]*src='([^']*)'", text)
    assert len(sources) == 7  # accuracy, cost, lr, confusion, precision/recall, mistakes, samples
    assert all(s.startswith("data:image/png;base64,") and base64.b64decode(s[22:])[:4] == b"\x89PNG"
               for s in sources)
    assert "http://" not in text and "https://" not in text
    test_acc = float(_epochs(out)[-1][3])
    assert f"evaluation accuracy {test_acc:.4f} on 100 test samples" in text
    for heading in ("Config", "Data", "Per epoch", "Curves", "Worst mistakes", "Timings", "Environment"):
        assert f"<h2>{heading}</h2>" in text


def test_help_reads_like_pytorch_examples_with_defaults_shown(run_main):
    code, out, _ = run_main("mnist.py", ["--help"])
    assert code == 0
    out = " ".join(out.split())  # (argparse wraps lines to the terminal's width)
    for needle in ("--batch-size N", "(default: 64)", "--epochs N", "(default: 4)", "--lr LR",
                   "(default: 0.1)", "--seed S", "(default: 1)", "--dry-run", "--log-interval N",
                   "--resume RUN_DIR|CHECKPOINT", "--optimizer NAME", "(default: sgd)",
                   "--lr-schedule", "--tensorboard DIR", "--export PREFIX", "examples:"):
        assert needle in out, needle
    assert "(default: None)" not in out
    for script in ("evaluate.py", "predict.py"):
        code, out, _ = run_main(script, ["--help"])
        assert code == 0 and "--symbol PREFIX" in out and "--params FILE" in out


def test_evaluate_runs_as_a_process_and_as_a_module(data_dir, tmp_path, run_main):
    _train(run_main, data_dir, "--epochs", "1", "--export", tmp_path / "net")
    for command in ([sys.executable, str(ROOT / "scripts" / "evaluate.py")],
                    [sys.executable, "-m", "mxdl.commands.evaluate"]):
        proc = subprocess.run(command + ["--symbol", str(tmp_path / "net"), "--data-dir", str(data_dir),
                                         "--no-download"], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("mnist test set, 100 images: accuracy ")


def test_progress_bars_only_on_a_terminal(monkeypatch):
    import io

    from mxdl.config import Config
    from mxdl.demos import mnist_demo

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not mnist_demo.settings(Config()).progress
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert mnist_demo.settings(Config()).progress and not mnist_demo.settings(Config(quiet=True)).progress


def test_a_reader_that_goes_away_is_no_traceback(run_main, data_dir, tmp_path):
    """``mxdl-predict ... | head -1``: the pipe closes under the command, which exits quietly (141)."""
    _train(run_main, data_dir, "--epochs", "1", "--out", tmp_path / "run")
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "predict.py"), "--params",
                             str(tmp_path / "run" / "logreg.params"), "--idx", IDX, "--index",
                             *map(str, range(3000))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().startswith(f"{IDX}[0]: ")
    proc.stdout.close()  # as head does after its line
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141 and "Traceback" not in err, err
