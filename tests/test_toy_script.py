"""scripts/toy.py (mxdl-toy) through the real command line: an end-to-end run, --help, one-line errors."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mxdl.context import num_gpus

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "toy.py"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIGURES = ("toy_data.png", "toy_cost_vs_weight.png", "toy_training_cost.png")


def run_script(*args, cwd):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_script_runs_end_to_end_and_writes_pngs(tmp_path):
    out = tmp_path / "figures"
    result = run_script("--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("config: ToyConfig(n=300, m=2.0, lr=0.05, num_epochs=20, batch_size=16")
    rows = {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
            for line in lines if line.startswith("| ") and "method" not in line}
    assert set(rows) == {"gradient descent", "SGD", "mini-batch SGD"}
    assert [rows[m][1] for m in ("gradient descent", "SGD", "mini-batch SGD")] == ["1", "240", "15"]
    for method, (batch_size, updates, w, train_acc, test_acc, seconds) in rows.items():
        assert abs(float(w) - 2.0) < 0.1, method
        assert float(test_acc) >= 0.98, method
    for name in FIGURES:
        path = out / name
        assert path.is_file(), name
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000, name
        assert f"wrote {path}" in result.stdout
    assert not (tmp_path / "runs").exists()  # --out was used, not the default
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_help_shows_the_defaults(run_main):
    code, out, _ = run_main("toy.py", ["--help"])
    assert code == 0
    for flag, default in [("--seed", "0"), ("--ctx", "cpu"), ("--lr", "0.05"), ("--epochs", "20"),
                          ("--batch-size", "16"), ("--n", "300"), ("--out", "runs/toy")]:
        assert flag in out
        assert f"(default: {default})" in out, flag


BAD_INPUTS = [
    ["--batch-size", "0"],
    ["--batch-size", "-3"],
    ["--batch-size", "241"],  # larger than the 240 training points
    ["--lr", "0"],
    ["--lr", "-0.1"],
    ["--lr", "nan"],
    ["--epochs", "0"],
    ["--n", "0"],  # empty data
    ["--n", "3"],  # too few points for a train and a test set
    ["--ctx", "tpu"],
    ["--ctx", "gpu:99"],
]
if num_gpus() == 0:
    BAD_INPUTS.append(["--ctx", "gpu"])  # no GPU on this machine: an error, never a silent fallback


@pytest.mark.parametrize("args", BAD_INPUTS, ids=" ".join)
def test_bad_input_is_one_readable_line(args, tmp_path, run_main):
    """In this process, as scripts/toy.py's main runs (the end-to-end test above is the subprocess)."""
    code, out, err = run_main("toy.py", [*args, "--out", tmp_path / "out"])
    assert code != 0
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "error" in lines[0]
    assert "gradient descent" not in out  # refused before any training
    assert not (tmp_path / "out").exists()  # failed before writing anything
