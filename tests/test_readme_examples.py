"""Commands the README shows, run as written (from the repository's root)."""
import re
import shlex
import subprocess
import sys
from pathlib import Path

from mxdl.config import Config
from mxdl.demos.mnist_demo import run

ROOT = Path(__file__).resolve().parents[1]


def test_the_predict_idx_example_works_as_written(tmp_path):
    readme = (ROOT / "README.md").read_text()
    line = next(line for line in readme.splitlines() if "predict.py" in line and "--idx" in line)
    argv = shlex.split(line.strip())
    assert argv[0] == ".venv/bin/python"
    params = tmp_path / "logreg.params"
    run(Config(dataset="mnist-t10k", num_epochs=1, save=str(params), quiet=True), log=lambda text: None)
    argv[argv.index("--params") + 1] = str(params)
    result = subprocess.run([sys.executable] + argv[1:], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3 and all(re.search(r"\]: \d \(probability [01]\.\d{3}\)$", s) for s in lines)
