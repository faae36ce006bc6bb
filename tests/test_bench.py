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
import threads  # noqa: E402
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
    assert train_speed.epoch_seconds(runs) == 2.0  # the median
    assert train_speed.best_epoch_seconds(runs) == 1.0  # the fastest: what the table shows
    assert train_speed.epoch_seconds([{"epoch_seconds": [5.0]}]) == 5.0  # one epoch: it counts
    assert train_speed.best_epoch_seconds([{"epoch_seconds": [5.0]}]) == 5.0


def test_batch_one_rows_have_their_own_samples_and_learning_rate():
    args = train_speed.build_parser().parse_args([])
    assert 1 in args.batch_sizes
    assert train_speed.job_limit_lr(args, 1) == (5000, 0.01)
    assert train_speed.job_limit_lr(args, 64) == (None, 0.1)
    args = train_speed.build_parser().parse_args(["--limit", "300"])
    assert train_speed.job_limit_lr(args, 1) == (300, 0.01)
    jobs = train_speed.plan(args, list(train_speed.VARIANTS))
    assert {(m, v) for m, b, v, _ in jobs if b == 1} == {
        (m, v) for m in ("logreg", "mlp") for v in ("mxdl", "torch", "torch-1t", "torch-lean")}
    assert not {v for m, b, v, _ in jobs if b != 1} & {"torch-lean"}  # the lean loop: batch 1 only


@pytest.mark.slow
def test_quick_run_end_to_end(make_idx_dataset, tmp_path):
    data_dir = make_idx_dataset(n_train=200, n_test=100)
    out = tmp_path / "bench.jsonl"
    variants = "mxdl,meetup,torch,torch-lean"
    proc = subprocess.run(
        [sys.executable, os.path.join(BENCH, "train_speed.py"), "--quick", "--dataset", "mnist",
         "--data-dir", str(data_dir), "--models", "logreg,lenet", "--batch-sizes", "1,64",
         "--sgd-limit", "50", "--variants", variants, "--json", str(out)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| model | batch | samples | variant | s/epoch | µs/update |" in proc.stdout
    assert "mxdl ÷ meetup" in proc.stdout and "mxdl ÷ best torch" in proc.stdout
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    results = [r for r in lines if r["kind"] == "result"]
    ratios = {(r["model"], r["batch_size"]): r for r in lines if r["kind"] == "ratio"}
    has_torch = any(r["variant"] == "torch" for r in results)
    torch = {"torch"} if has_torch else set()
    expected = {("logreg", 64): {"mxdl", "meetup"} | torch, ("lenet", 64): {"mxdl", "meetup"} | torch,
                ("logreg", 1): {"mxdl"} | torch | ({"torch-lean"} if has_torch else set())}
    # (batch 1: the dense nets, no meetup pipeline; PyTorch's lean loop only there)
    assert {(r["model"], r["batch_size"]) for r in results} == set(expected)
    for key, variants_run in expected.items():
        assert {r["variant"] for r in results if (r["model"], r["batch_size"]) == key} == variants_run
        assert ratios[key]["mxdl_over_bound"] > 1  # nothing beats the compute bound
        assert ("mxdl_over_torch" in ratios[key]) == has_torch
        if has_torch:  # best torch: PyTorch's fastest row, whichever it was
            assert ratios[key]["mxdl_over_best_torch"] == max(
                v for k, v in ratios[key].items() if k in ("mxdl_over_torch", "mxdl_over_torch_lean"))
        assert ("mxdl_over_best_torch" in ratios[key]) == has_torch
    for model in ("logreg", "lenet"):
        assert ratios[model, 64]["mxdl_over_meetup"] > 0
    for r in results:
        assert r["num_train"] == (50 if r["batch_size"] == 1 else 200) and r["num_test"] == 100
        assert r["seconds_per_epoch"] > 0 and r["peak_rss_mb"] > 50
        assert r["updates_per_epoch"] == -(-r["num_train"] // r["batch_size"])
        assert r["us_per_update"] == pytest.approx(r["seconds_per_epoch"] / r["updates_per_epoch"] * 1e6)
        assert 0 <= r["test_acc"] <= 1
    assert all(r["settings"]["engine"] == "eager, lean loop" and r["settings"]["threads"] == 1
               for r in results if r["variant"] == "torch-lean")
    mxdl = [r for r in results if r["variant"] == "mxdl"]
    assert all(r["settings"]["hybridize"] for r in mxdl)  # the default path is the hybridized one
    assert not any(r["settings"]["hybridize"] for r in results if r["variant"] == "meetup")


@pytest.mark.slow
def test_threads_compares_one_thread_with_two_spinning_ones(make_idx_dataset, tmp_path):
    """bench/threads.py (through bench/step_profile.py, which it runs once per setting): each process
    gets the setting it is named for, and the table says which one mxdl chooses."""
    data_dir = make_idx_dataset(n_train=120, n_test=40)
    out = tmp_path / "threads.jsonl"
    proc = subprocess.run(
        [sys.executable, os.path.join(BENCH, "threads.py"), "--models", "logreg,mlp", "--batch-sizes", "1,32",
         "--rounds", "1", "--repeats", "1", "--updates", "2", "--min-samples", "4", "--dataset", "mnist",
         "--data-dir", str(data_dir), "--json", str(out)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| model | batch | samples | 1 thread, µs/update | 2 spinning, µs/update | 2 ÷ 1 | mxdl chooses |" in proc.stdout
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["model"], r["batch_size"], r["samples"]) for r in rows] == [
        ("logreg", 1, 4), ("logreg", 32, 64), ("mlp", 1, 4), ("mlp", 32, 64)]
    for r in rows:
        assert r["us_one_thread"] > 0 and r["us_two_spinning"] > 0
        assert r["two_over_one"] == pytest.approx(r["us_two_spinning"] / r["us_one_thread"])
        one, two = r["environments"]["1 thread"], r["environments"]["2 spinning"]
        assert one["OMP_NUM_THREADS"] == "1" and "OMP_WAIT_POLICY" not in one
        assert two["OMP_NUM_THREADS"] == "2" and two["OMP_WAIT_POLICY"] == "ACTIVE"
    two_cores = len(os.sched_getaffinity(0)) >= 2
    assert [r["mxdl_chooses"] for r in rows] == [
        "1 thread", "1 thread", "1 thread", "2 spinning" if two_cores else "1 thread"]
    assert threads.chosen("logreg", 256) == ("2 spinning" if two_cores else "1 thread")
