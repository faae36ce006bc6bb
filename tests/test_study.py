"""The batch-size study: GD, SGD and mini-batch SGD trained side by side, its table, plots and script."""
import csv
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest
from matplotlib.figure import Figure
from mxnet import gluon

from mxdl import cli
from mxdl.demos import batch_size_study as study
from mxdl.errors import DivergedError, MxdlError
from mxdl.plots import study as plots
from mxdl.utils import seed_everything

from conftest import blobs

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "batch_sizes.py"
SOFTMAX_CE = gluon.loss.SoftmaxCrossEntropyLoss()


def _blobs(n=100, seed=0):
    """Three Gaussian blobs in 2-D: a tiny multiclass task that every batch size can learn."""
    return blobs(n, seed, scale=0.7)


def _dense():
    net = gluon.nn.Dense(3, in_units=2)
    net.initialize(mx.init.Normal(0.5))
    return net


def _line():
    """y = w·x with w = 0: a regression whose squared error blows up when the learning rate is too high."""
    net = gluon.nn.Dense(1, in_units=1, use_bias=False)
    net.initialize(mx.init.Zero())
    return net


def _line_data(n=50, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.uniform(0, 20, size=(n, 1)).astype("float32")
    return x, (2 * x[:, 0] + rng.normal(size=n)).astype("float32")


@pytest.fixture(scope="module")
def blob_study():
    X, y = _blobs(130)
    return study.batch_size_study(_dense, SOFTMAX_CE, (X[:100], y[:100]), (X[100:], y[100:]),
                                  batch_sizes=[1, 8, 32, None], lrs=[0.01, 0.3], num_epochs=3, seed=0)


def test_updates_per_epoch_follow_the_batch_size(blob_study):
    # N = 100: SGD makes 100 updates, mini-batches ceil(100/b) (short last batch kept), GD one.
    assert blob_study.batch_sizes == [1, 8, 32, 100]
    assert [row["updates_per_epoch"] for row in blob_study.rows] == [100, 13, 4, 1]
    algorithms = ["SGD", "mini-batch SGD", "mini-batch SGD", "GD"]
    assert [row["algorithm"] for row in blob_study.rows] == algorithms
    for run in blob_study.runs:
        assert run.history.column("updates") == [run.updates_per_epoch] * 3
        assert len(run.costs) == len(run.test_accs) == 4  # epoch 0 (initial weights) + 3 epochs
        assert len(run.seconds) == 4 and run.seconds[0] == 0 and np.all(np.diff(run.seconds) > 0)


def test_every_run_starts_from_the_same_weights_and_learns(blob_study):
    initial = {run.costs[0] for run in blob_study.runs}
    assert len(initial) == 1  # the same seed gives the same initial weights for every run
    best = [run for run in blob_study.picked if run.batch_size < 100]
    for run in best:
        assert run.final_cost < 0.5 * run.costs[0]
        assert run.final_test_acc >= 0.9


def test_the_picked_lr_has_the_lowest_final_training_cost_among_stable_runs(blob_study):
    for row, run in zip(blob_study.rows, blob_study.picked):
        rivals = [r for r in blob_study.runs if r.batch_size == run.batch_size]
        stable = [r.final_cost for r in rivals if not study.rose_sharply(r.costs)]
        assert run.final_cost == min(stable or [r.final_cost for r in rivals])
        assert row["lr"] == run.lr and row["final_cost"] == run.final_cost
    grid = blob_study.cost_grid()
    assert grid.shape == (2, 4)
    assert grid[blob_study.lrs.index(0.3), 3] == blob_study.picked[3].final_cost
    # GD makes three updates in three epochs: with the small rate it crawls, far behind SGD.
    assert grid[0, 3] > grid[0, 0]


def test_final_cost_is_the_cost_of_the_final_weights():
    X, y = _blobs(60)
    run = study.train_run(_dense, SOFTMAX_CE, (X, y), batch_size=None, lr=0.5, num_epochs=2, seed=0)
    # Reproduce the run by hand: same seed, same initial weights, two full-batch updates.
    seed_everything(0)
    net = _dense()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5})
    X_nd, y_nd = mx.nd.array(X), mx.nd.array(y)
    for _ in range(2):
        with mx.autograd.record():
            loss = SOFTMAX_CE(net(X_nd), y_nd)
        loss.backward()
        trainer.step(len(X))
    expected = SOFTMAX_CE(net(X_nd), y_nd).mean().asscalar()
    assert run.final_cost == pytest.approx(float(expected), rel=1e-5)
    assert run.updates_per_epoch == 1 and run.algorithm == "GD"


def test_a_diverging_lr_is_recorded_in_the_study_and_raised_by_train_run():
    x, y = _line_data()
    with pytest.raises(DivergedError, match="learning rate"):
        study.train_run(_line, gluon.loss.L2Loss(), (x, y), batch_size=1, lr=1.0, num_epochs=2,
                        to_label=None)
    result = study.batch_size_study(_line, gluon.loss.L2Loss(), (x, y), batch_sizes=[1, None],
                                    lrs=[1e-4, 1.0], num_epochs=2, to_label=None)
    sgd_diverged = [run for run in result.runs if run.batch_size == 1 and run.lr == 1.0][0]
    assert sgd_diverged.diverged and "cost became" in sgd_diverged.diverged
    assert math.isnan(sgd_diverged.final_cost)
    grid = result.cost_grid()
    assert math.isnan(grid[1, 0]) and math.isfinite(grid[0, 0])
    assert result.rows[0]["lr"] == 1e-4 and not result.rows[0]["diverged"]  # the finite rate is kept
    assert all(math.isnan(acc) for run in result.runs for acc in run.test_accs)  # regression: no accuracy
    assert "diverged" not in result.table().splitlines()[2]
    assert study.verdict([100.0, float("nan")]) == "diverged"
    assert study.verdict([100.0, 1e20]) == "blows up"
    assert study.verdict([100.0, 95.0, 90.0]) == "crawls"
    assert study.verdict([100.0, 20.0, 90.0]) == "bounces"
    assert study.verdict([100.0, 40.0, 1.0]) == "learns"
    # On the line y = w·x, a tiny learning rate with one update per epoch (GD) crawls.
    crawl = [run for run in result.runs if run.batch_size == len(x) and run.lr == 1e-4][0]
    assert study.verdict(crawl.costs) == "crawls"


def test_all_lrs_diverged_shows_as_diverged_row():
    x, y = _line_data()
    result = study.batch_size_study(_line, gluon.loss.L2Loss(), (x, y), batch_sizes=[1], lrs=[1.0, 10.0],
                                    num_epochs=1, to_label=None)
    assert result.rows[0]["diverged"]
    assert "diverged" in result.table().splitlines()[2]


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch_sizes=[1, 500]), "batch size 500 is more than the 100 training samples"),
    (dict(lrs=[0.1, 0.1]), "listed twice"),
    (dict(lrs=[]), "at least one learning rate"),
    (dict(batch_sizes=[]), "at least one batch size"),
    (dict(num_epochs=0), "num_epochs"),
])
def test_bad_settings_are_user_errors(kwargs, message):
    X, y = _blobs(100)
    settings = dict(batch_sizes=[1], lrs=[0.1], num_epochs=1)
    settings.update(kwargs)
    with pytest.raises(MxdlError, match=message):
        study.batch_size_study(_dense, SOFTMAX_CE, (X, y), **settings)


def test_rows_and_curves_written_atomically_as_csv_and_json(blob_study, tmp_path):
    blob_study.to_csv(tmp_path / "rows.csv")
    blob_study.to_json(tmp_path / "study.json")
    with open(tmp_path / "rows.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["batch_size"]) for r in rows] == [1, 8, 32, 100]
    assert list(rows[0]) == list(study.COLUMNS)
    data = json.loads((tmp_path / "study.json").read_text())  # strict JSON: NaN would not parse here
    assert len(data["runs"]) == 8 and data["rows"][3]["updates_per_epoch"] == 1
    assert [p["epoch"] for p in data["runs"][0]["curves"]] == [0, 1, 2, 3]
    assert sorted(os.listdir(tmp_path)) == ["rows.csv", "study.json"]  # no temporary files left


def test_plots_render_and_mark_diverged_cells(blob_study, tmp_path):
    fig = plots.plot_study(blob_study)
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    curves = fig.axes[0].get_lines()
    assert len(curves) == 4 and list(curves[0].get_xdata()) == [0, 1, 2, 3]
    costs = np.array([[0.5, float("nan")], [0.2, 3.0]])
    heat = plots.plot_lr_batch_heatmap(costs, [0.01, 1.0], [1, None], num_train=100)
    texts = [t.get_text() for t in heat.axes[0].texts]
    assert texts == ["0.5", "diverged", "0.2", "3"]
    assert [t.get_text() for t in heat.axes[0].get_xticklabels()] == ["1 (SGD)", "100 (GD)"]
    for name, figure in (("study.png", fig), ("heat.png", heat)):
        figure.savefig(tmp_path / name)
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="shape"):
        plots.plot_lr_batch_heatmap(costs, [0.01], [1, None])


# --- the script, end to end -------------------------------------------------------------------


def _script_module():
    spec = importlib.util.spec_from_file_location("batch_sizes_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_script_end_to_end_on_tiny_idx_data(make_idx_dataset, tmp_path):
    data_dir = make_idx_dataset(n_train=200, n_test=100)
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--dataset", "mnist", "--data-dir", str(data_dir),
         "--batch-sizes", "1,8,64,full", "--epochs", "2", "--lr-grid", "0.1,1", "--seed", "0",
         "--out", str(out)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["batch_size", "algorithm"])
    table = [line.split() for line in lines[header + 2:header + 6]]
    # batch size, updates per epoch: 200 samples -> 200, ceil(200/8) = 25, ceil(200/64) = 4, 1.
    assert [(row[0], row[-4]) for row in table] == [("1", "200"), ("8", "25"), ("64", "4"), ("200", "1")]
    assert "picked per batch size from 0.1, 1" in result.stdout
    assert sorted(os.listdir(out)) == ["batch_sizes.csv", "batch_sizes.json", "batch_sizes.png",
                                       "lr_batch_heatmap.png"]
    with open(out / "batch_sizes.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["updates_per_epoch"]) for r in rows] == [200, 25, 4, 1]
    assert float(rows[1]["test_acc"]) > 0.5  # mini-batches of 8 learn the synthetic digits
    data = json.loads((out / "batch_sizes.json").read_text())
    assert len(data["runs"]) == 8 and data["num_train"] == 200


def test_script_fixed_lr_and_quiet(make_idx_dataset, capsys):
    data_dir = make_idx_dataset(n_train=100, n_test=50)
    main = _script_module().main
    assert cli.run(main, ["--dataset", "mnist", "--data-dir", str(data_dir), "--batch-sizes", "10,full",
                          "--epochs", "1", "--lr", "0.1", "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:2] == ["batch_size", "algorithm"] and len(out) == 4  # only the table
    assert out[2].split()[:4] == ["10", "mini-batch", "SGD", "0.1"]


@pytest.mark.parametrize("argv, message", [
    (["--batch-sizes", "1,0"], "'0' is not a batch size"),
    (["--batch-sizes", "8,8"], "listed twice"),
    (["--lr-grid", "0.1,x"], "must be a number > 0, got 'x'"),
    (["--lr", "0.1", "--lr-grid", "0.1,1"], "not allowed with argument"),
    (["--model", "resnet"], "invalid choice"),
    (["--epochs", "0"], "--epochs: must be an integer >= 1, got '0'"),
])
def test_bad_flags_are_one_line_errors(argv, message, capsys):
    main = _script_module().main
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mxdl-batch-sizes: error:") and message in err


def test_batch_size_above_the_data_is_a_one_line_error(make_idx_dataset, capsys, tmp_path):
    data_dir = make_idx_dataset(n_train=100, n_test=50)
    main = _script_module().main
    assert cli.run(main, ["--dataset", "mnist", "--data-dir", str(data_dir), "--batch-sizes", "512",
                          "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "batch size 512 is more than the 100 training samples" in err
    assert cli.run(main, ["--dataset", "mnist", "--data-dir", str(tmp_path / "nowhere"), "--quiet"]) == 1
    assert "is not a directory" in capsys.readouterr().err


def test_a_run_whose_cost_spiked_is_not_picked_even_if_it_ended_lowest():
    # The README's case: batch 64 with lr 1 went 0.437, 0.334, 2.619, 0.359 and ended below lr 0.1's
    # 0.4435; the lowest-final-cost rule alone picked it.
    Run, Study = study.Run, study.Study
    spiky = Run(batch_size=64, lr=1.0, num_train=5000, costs=[2.326, 0.437, 0.334, 2.619, 0.359])
    steady = Run(batch_size=64, lr=0.1, num_train=5000, costs=[2.326, 0.693, 0.562, 0.525, 0.4435])
    slow = Run(batch_size=64, lr=0.01, num_train=5000, costs=[2.326, 1.708, 1.357, 1.148, 1.010])
    assert study.rose_sharply(spiky.costs)
    assert not study.rose_sharply(steady.costs) and not study.rose_sharply(slow.costs)
    grid = Study([slow, steady, spiky], [64], [0.01, 0.1, 1.0], num_epochs=4, num_train=5000)
    assert grid.picked == [steady] and grid.picked_rows() == [1]
    # With no stable run left, the lowest final cost is kept rather than nothing.
    assert Study([spiky], [64], [1.0], num_epochs=4, num_train=5000).picked == [spiky]
    # Noise is not a spike: SGD's cost wobbling by 9% is kept.
    assert not study.rose_sharply([2.3, 1.57, 1.43, 1.56, 1.32])
