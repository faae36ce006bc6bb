"""Horovod, the second distributed engine (mxdl.distributed.horovod): errors, and real 2-rank runs.

The runs start ``horovodrun -np 2 -H localhost:2 --gloo`` on tiny IDX files, bounded by
``subprocess.run(timeout=...)``; afterwards no process that names the test's directory may be left
running.  They need Horovod (``make horovod``) and skip without it -- unless MXDL_REQUIRE_HOROVOD=1
(set by .ci/run, which builds Horovod), where a missing Horovod fails them.
"""
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest
from mxnet import gluon

import mxdl.env
from mxdl.data import load_dataset
from mxdl.distributed import horovod, parallel
from mxdl.errors import MxdlError
from mxdl.models import default_init, get_model
from mxdl.train import fit, make_trainer
from conftest import processes_mentioning
from mxdl.utils import save_params, seed_everything

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "tests" / "horovod_worker.py"
BOUND = 120        # seconds any one horovodrun may take here (2 cores shared with other work)
N_TRAIN = 300      # 150 per rank = 4 batches of 32 + a short one of 22
HAVE_HOROVOD = horovod.available()
REQUIRED = os.environ.get("MXDL_REQUIRE_HOROVOD") == "1"


@pytest.fixture
def need_horovod():
    if not HAVE_HOROVOD:
        if REQUIRED:
            pytest.fail("MXDL_REQUIRE_HOROVOD=1 but Horovod is not installed: run make horovod")
        pytest.skip("Horovod is not installed (make horovod)")


def horovodrun():
    """The horovodrun of this Python's environment."""
    path = Path(sys.executable).with_name("horovodrun")
    return str(path) if path.exists() else "horovodrun"


def run_ranks(num_ranks, argv, tmp_path):
    """``horovodrun -np num_ranks ... argv`` with this tree's mxdl and one thread a rank."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    for name in ("HOROVOD_RANK", "HOROVOD_SIZE"):
        env.pop(name, None)
    command = [horovodrun(), "-np", str(num_ranks), "-H", f"localhost:{num_ranks}", "--gloo",
               "--start-timeout", "60", *[str(a) for a in argv]]
    try:
        return subprocess.run(command, check=False, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=BOUND)
    finally:
        assert processes_mentioning(str(tmp_path)) == []


def load(path):
    return {name: array.asnumpy() for name, array in mx.nd.load(str(path)).items()}


def max_difference(a, b):
    assert sorted(a) == sorted(b)
    return max(float(np.abs(a[name] - b[name]).max()) for name in a)


# ----------------------------------------------------------------------------- without horovodrun

def test_without_horovod_installed_init_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "horovod", None)   # as if there were no horovod package
    monkeypatch.setenv("HOROVOD_RANK", "0")
    with pytest.raises(MxdlError, match=r"needs Horovod, which is not installed: .*'make horovod'"):
        horovod.init()
    assert not horovod.available()


def test_outside_horovodrun_init_says_how_to_launch(need_horovod, monkeypatch):
    for name in horovod._LAUNCH_VARIABLES:  # (not started by horovodrun)
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(MxdlError, match=r"started by horovodrun, e\.g\. 'horovodrun -np 2 -H localhost:2 --gloo python -m mxdl"):
        horovod.init()
    # ... before loading Horovod's library: this process may still import torch (see available()).
    assert "horovod.mxnet" not in sys.modules


def test_mxnets_horovod_kvstore_is_refused():
    # What it would do: MXNet 1.9.1 creates a one-worker local store under that name.
    kv = mx.kv.create("horovod")
    assert (kv.rank, kv.num_workers) == (0, 1)
    net = get_model("logreg")
    with pytest.raises(MxdlError, match="kvstore 'horovod' does not share gradients"):
        make_trainer(net, 0.1, kvstore="horovod")
    data = (np.zeros((4, 1, 28, 28), "float32"), np.zeros(4, "float32"))
    with pytest.raises(MxdlError, match=r"use --dist horovod, or fit\(\.\.\., kvstore=mxdl"):
        fit(net, gluon.loss.SoftmaxCrossEntropyLoss(), data, num_epochs=1, batch_size=2, lr=0.1,
            kvstore="horovod")
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1}, kvstore="horovod")
    with pytest.raises(MxdlError, match="kvstore 'horovod' does not share gradients"):
        fit(net, gluon.loss.SoftmaxCrossEntropyLoss(), data, num_epochs=1, batch_size=2, lr=0.1,
            trainer=trainer)


def test_dist_horovod_without_horovodrun_is_one_line(run_main, monkeypatch):
    for name in horovod._LAUNCH_VARIABLES:  # (not started by horovodrun)
        monkeypatch.delenv(name, raising=False)
    configured = []   # env.configure(model, batch size) calls: LeNet's 2 threads must not reach a Horovod rank
    monkeypatch.setattr(mxdl.env, "configure", lambda model, batch_size=None: configured.append(model))
    code, out, err = run_main("mnist.py", ["--dataset", "mnist-t10k", "--dist", "horovod",
                                           "--model", "lenet"])
    assert code == 1 and err.count("\n") == 1 and out == ""
    expected = horovod.NOT_LAUNCHED if HAVE_HOROVOD else horovod.NOT_INSTALLED
    assert err == f"error: {expected}\n"
    assert configured == []
    run_main("mnist.py", ["--model", "lenet", "--data-dir", "/nonexistent/mxdl-test"])  # fails after
    assert configured == ["lenet"]          # (without --dist, the command does configure the model)


def test_one_engine_at_a_time_and_one_device_a_rank(run_main):
    code, _, err = run_main("mnist.py", ["--dist", "horovod", "--kvstore", "dist_sync"])
    assert code == 1 and err == ("error: choose one distributed engine: kvstore dist_sync (ps-lite) or "
                                 "dist horovod, not both\n")
    with pytest.raises(MxdlError, match="a Horovod rank trains on one device, got 2"):
        parallel.check_kvstore([mx.cpu(0), mx.cpu(1)], horovod.Ranks(0, 2))
    parallel.check_kvstore([mx.cpu(0)], horovod.Ranks(0, 2))
    assert parallel.is_sharded(horovod.Ranks(1, 2)) and not parallel.is_distributed(horovod.Ranks(1, 2))
    assert parallel.worker_rank(horovod.Ranks(1, 3)) == (1, 3)


def test_shards_are_equal_and_interleaved():
    """A Horovod rank's share is fit's parallel.shard with its Ranks: equal and interleaved."""
    X, y = np.arange(11).reshape(11, 1), np.arange(11)
    shards = [parallel.shard(X, y, horovod.Ranks(rank, 3)) for rank in range(3)]
    assert [list(s[1]) for s in shards] == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]   # 9 and 10 left out
    with pytest.raises(MxdlError, match="2 training samples cannot be shared by 3 workers"):
        parallel.shard(X[:2], y[:2], horovod.Ranks(0, 3))


# ----------------------------------------------------------------------------- under horovodrun

@pytest.mark.slow
def test_two_ranks_equal_one_process_with_the_global_batch(need_horovod, make_idx_dataset, tmp_path):
    data_dir = make_idx_dataset(n_train=N_TRAIN, n_test=100)
    out = tmp_path / "out"
    # Each rank seeds itself differently: only rank 0's broadcast weights can make them agree.
    run = run_ranks(2, [sys.executable, WORKER, data_dir, out, "--batch-size", 32, "--epochs", 2,
                        "--different-seeds"], tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    r0, r1 = load(out / "rank0.params"), load(out / "rank1.params")
    assert max_difference(r0, r1) <= 1e-6                    # every rank holds the same net
    reports = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [(r["rank"], r["size"]) for r in reports] == [(0, 2), (1, 2)]
    assert [e["updates"] for e in reports[0]["history"]] == [5, 5]   # 150 a rank: 4 x 32 + 22

    # One process taking the same steps: batches of 2 x 32 of the same, unshuffled data.
    dataset = load_dataset("mnist", data_dir=data_dir, download=False, progress=False)
    seed_everything(1)
    net = get_model("logreg", init=default_init("logreg"))
    history = fit(net, gluon.loss.SoftmaxCrossEntropyLoss(), dataset.train, dataset.test, num_epochs=2,
                  batch_size=64, lr=0.1, shuffle=False)
    save_params(net, tmp_path / "single.params")
    assert max_difference(r0, load(tmp_path / "single.params")) <= 1e-5
    assert reports[0]["history"][-1]["test_acc"] == pytest.approx(history.last.test_acc, abs=0.011)
    assert history.last.test_acc >= 0.85


@pytest.mark.slow
def test_mnist_command_with_two_ranks_equals_one_process(need_horovod, run_main, make_idx_dataset,
                                                        tmp_path):
    """``horovodrun -np 2 ... mxdl-mnist --dist horovod``: the equivalence test of dist_sync's, for Horovod."""
    data_dir = make_idx_dataset(n_train=N_TRAIN, n_test=100)
    out = tmp_path / "out"
    flags = ["--data-dir", data_dir, "--no-download", "--epochs", 2, "--no-shuffle"]
    run = run_ranks(2, [sys.executable, "-m", "mxdl.commands.mnist", *flags, "--dist", "horovod",
                        "--batch-size", 32, "--save", tmp_path / "rank{rank}.params", "--out", out],
                    tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    r0, r1 = load(tmp_path / "rank0.params"), load(tmp_path / "rank1.params")
    assert max_difference(r0, r1) <= 1e-6
    code, _, err = run_main("mnist.py", [*flags, "--batch-size", 64, "--quiet",
                                         "--save", tmp_path / "single.params"])
    assert code == 0, err
    assert max_difference(r0, load(tmp_path / "single.params")) <= 1e-5     # measured 1.1e-8

    # Rank 0 alone prints and writes --out; each rank wrote its own --save.
    lines = run.stdout.splitlines()
    assert lines and all(line.startswith("[0]<stdout>:") for line in lines)
    assert any("one update = 32 samples x 2 ranks = global batch 64" in line for line in lines)
    assert len([line for line in lines if re.search(r"\bEpoch \d\. Loss", line)]) == 2
    config = json.loads((out / "config.json").read_text())
    assert config["dist"] == "horovod" and config["shuffle"] is False
    history = json.loads((out / "history.json").read_text())
    assert [row["updates"] for row in history] == [5, 5]    # 150 samples a rank: 4 x 32 + 22
    assert history[-1]["test_acc"] >= 0.85                  # measured 0.92


@pytest.mark.slow
def test_a_failing_rank_stops_the_job_promptly(need_horovod, make_idx_dataset, tmp_path):
    """One rank gets a data directory that does not exist: horovodrun ends the job, nothing hangs."""
    data_dir = make_idx_dataset(n_train=N_TRAIN, n_test=100)
    # The first rank to create the lock runs normally (and waits for the other in the broadcast);
    # the other is given a bad --data-dir, so it fails after both have started Horovod.
    pick = 'if mkdir "$0/lock" 2>/dev/null; then exec "$@"; else exec "$@" --data-dir "$0/nowhere"; fi'
    start = time.monotonic()
    run = run_ranks(2, ["sh", "-c", pick, tmp_path, sys.executable, "-m", "mxdl.commands.mnist",
                        "--dist", "horovod", "--data-dir", data_dir, "--no-download", "--quiet"],
                    tmp_path)
    seconds = time.monotonic() - start
    assert run.returncode != 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert seconds < 60                      # measured about 10 s
    assert re.search(r"\[\d\]<stderr>:error: data_dir \(--data-dir\) \S*nowhere is not a directory",
                     run.stdout + run.stderr), run.stdout[-3000:] + run.stderr[-3000:]
    assert "Epoch" not in run.stdout


@pytest.mark.slow
def test_horovod_kvstore_is_refused_under_horovodrun_too(need_horovod, make_idx_dataset, tmp_path):
    data_dir = make_idx_dataset(n_train=40, n_test=20)
    run = run_ranks(2, [sys.executable, WORKER, data_dir, tmp_path / "out", "--kvstore-horovod"],
                    tmp_path)
    assert run.returncode != 0
    assert "error: kvstore 'horovod' does not share gradients" in run.stdout + run.stderr
