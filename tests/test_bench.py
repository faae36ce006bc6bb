"""The speed benchmark (bench/) must not rot: its --quick mode runs end to end on tiny IDX files.

The numbers of a quick run mean nothing (a few hundred samples, one epoch); what is checked is that
every variant trains and reports, that the table and the JSON lines have what bench/README.md says,
and that the FLOP counts behind the lower bound are right.
"""
import json
import os
import subprocess
import sys

import pytest

from mxdl.models import get_model

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")
sys.path.insert(0, BENCH)

import flops  # noqa: E402  (bench/ is not a package)
import train_speed  # noqa: E402


def test_forward_macs_of_the_three_nets():
    assert flops.forward_macs(get_model("logreg")) == 784 * 10
    assert flops.forward_macs(get_model("mlp")) == 784 * 128 + 128 * 64 + 64 * 10
    conv1 = 24 * 24 * 20 * (1 * 5 * 5)  # (b, 20, 24, 24) outputs, each a 1x5x5 window
    conv2 = 8 * 8 * 50 * (20 * 5 * 5)  # (b, 50, 8, 8) outputs, each a 20x5x5 window
    assert flops.forward_macs(get_model("lenet")) == conv1 + conv2 + 800 * 500 + 500 * 10


def test_lower_bound_is_three_forward_passes_at_the_gemm_rate():
    # 1e6 multiply-adds = 2e6 FLOPs forward, 6e6 to train one sample; 1000 samples at 6e9 FLOP/s: 1 s.
    assert flops.lower_bound_seconds(1e6, 1000, 6e9) == pytest.approx(1.0)


def test_seconds_per_epoch_skips_each_runs_first_epoch():
    runs = [{"epoch_seconds": [9.0, 1.0, 3.0]}, {"epoch_seconds": [9.0, 2.0]}]
    assert train_speed.epoch_seconds(runs) == 2.0
    assert train_speed.epoch_seconds([{"epoch_seconds": [5.0]}]) == 5.0  # one epoch: it counts


def test_quick_run_end_to_end(make_idx_dataset, tmp_path):
    data_dir = make_idx_dataset(n_train=200, n_test=100)
    out = tmp_path / "bench.jsonl"
    variants = "mxdl,meetup,torch"
    proc = subprocess.run(
        [sys.executable, os.path.join(BENCH, "train_speed.py"), "--quick", "--dataset", "mnist",
         "--data-dir", str(data_dir), "--models", "logreg,lenet", "--batch-sizes", "64",
         "--variants", variants, "--json", str(out)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| model | batch | variant | s/epoch |" in proc.stdout
    assert "mxdl ÷ meetup" in proc.stdout
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    results = [r for r in lines if r["kind"] == "result"]
    ratios = {r["model"]: r for r in lines if r["kind"] == "ratio"}
    has_torch = any(r["variant"] == "torch" for r in results)
    expected = {"mxdl", "meetup"} | ({"torch"} if has_torch else set())
    for model in ("logreg", "lenet"):
        assert {r["variant"] for r in results if r["model"] == model} == expected
        assert ratios[model]["mxdl_over_meetup"] > 0
        assert ratios[model]["mxdl_over_bound"] > 1  # nothing beats the compute bound
        assert ("mxdl_over_torch" in ratios[model]) == has_torch
    for r in results:
        assert r["num_train"] == 200 and r["num_test"] == 100
        assert r["seconds_per_epoch"] > 0 and r["peak_rss_mb"] > 50
        assert 0 <= r["test_acc"] <= 1
    mxdl = [r for r in results if r["variant"] == "mxdl"]
    assert all(r["settings"]["hybridize"] for r in mxdl)  # the default path is the hybridized one
    assert not any(r["settings"]["hybridize"] for r in results if r["variant"] == "meetup")
