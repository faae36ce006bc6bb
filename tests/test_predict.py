"""scripts/predict.py and mxdl.demos.mnist_demo.classify: a saved net labels PNG files and IDX samples."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mxdl.config import Config
from mxdl.data import load_dataset, read_images
from mxdl.data.sources import embedded_dir
from mxdl.demos.mnist_demo import classify, load_trained, run
from mxdl.train import predict

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "predict.py"
IDX = str(embedded_dir("mnist-t10k") / "t10k-images-idx3-ubyte.gz")  # the real MNIST test images
LINE = re.compile(r"^(.+): (\d) \(probability (0\.\d{3}|1\.000)\)$")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A logreg trained for 2 epochs on the real digits, saved to a params file."""
    path = tmp_path_factory.mktemp("trained") / "logreg.params"
    run(Config(dataset="mnist-t10k", num_epochs=2, save=str(path), quiet=True), log=lambda line: None)
    return path


def test_classify_gives_the_softmax_of_the_scores(trained):
    net = load_trained("logreg", trained)
    X, y = load_dataset("mnist-t10k").test
    labels, probabilities = classify(net, X)
    y_hat = predict(net, X)
    softmax = np.exp(y_hat - y_hat.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    np.testing.assert_array_equal(labels, y_hat.argmax(axis=1))
    np.testing.assert_allclose(probabilities, softmax.max(axis=1), rtol=1e-5)
    assert (labels == y).mean() >= 0.88


def test_predict_idx_samples(run_main, trained):
    """The first ten test digits (the demo's grid), by index into the shipped IDX file."""
    code, out, err = run_main("predict.py", ["--params", trained, "--idx", IDX, "--index", *range(10)])
    assert code == 0, err
    matches = [LINE.match(line) for line in out.splitlines()]
    assert len(matches) == 10 and all(matches), out
    predicted = [int(m.group(2)) for m in matches]
    # The real labels of the MNIST test set's first ten digits (its README): 7 2 1 0 4 1 4 9 5 9.
    assert sum(p == t for p, t in zip(predicted, [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])) >= 8


def test_predict_png_files_of_any_size(run_main, trained, tmp_path):
    """A real digit drawn dark on white at 3x the size is read back as the same digit."""
    images = read_images(IDX)[:3]  # 7, 2, 1
    paths = []
    for k, image in enumerate(images):
        paths.append(tmp_path / f"digit{k}.png")
        Image.fromarray(255 - image).resize((84, 84), Image.Resampling.NEAREST).save(paths[-1])
    code, out, err = run_main("predict.py", ["--params", trained, *paths])
    assert code == 0, err
    assert [LINE.match(line).group(2) for line in out.splitlines()] == ["7", "2", "1"]
    assert out.splitlines()[0].startswith(f"{paths[0]}: 7 (probability")


@pytest.mark.parametrize("argv, needle", [
    (["--model", "mlp", "--idx", "IDX", "--index", "0"], "does not fit"),  # logreg params, an MLP
    (["--idx", "IDX", "--index", "10000"], "out of range"),
    (["missing.png"], "does not exist"),
    ([], "give image files"),
    (["--idx", "IDX"], "go together"),
])
def test_bad_input_is_one_line(run_main, trained, argv, needle):
    argv = [IDX if a == "IDX" else a for a in argv]
    code, out, err = run_main("predict.py", ["--params", trained, *argv])
    assert code != 0 and err.count("\n") == 1 and needle in err, err
    assert out == ""


def test_script_runs_as_a_process(trained):
    proc = subprocess.run([sys.executable, str(SCRIPT), "--params", str(trained), "--idx", IDX,
                           "--index", "0"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert LINE.match(proc.stdout.strip()).group(2) == "7"


def test_a_bad_picture_beside_idx_samples_still_fails_the_run(run_main, trained):
    """The IDX samples are classified, the unreadable picture is the one error line, and the exit
    code says so (the --index range check must not forget the pictures that could not be read)."""
    code, out, err = run_main("predict.py", ["--params", trained, "missing.png", "--idx", IDX, "--index", "0"])
    assert code == 1 and err.count("\n") == 1 and "missing.png" in err and "1 of 2 inputs" in err, err
    assert LINE.match(out.strip()).group(2) == "7"


def test_help_imports_no_mxnet():
    code = ("import sys\nfrom mxdl.commands.predict import main\ntry:\n    main(['--help'])\n"
            "except SystemExit:\n    pass\nprint('mxnet' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    assert out.splitlines()[-1] == "False"
