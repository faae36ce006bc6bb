"""The notebooks: committed without outputs, importing mxdl, and executed headless top to bottom.

Policy: the committed notebooks carry no outputs (every ``execution_count`` null, no run metadata), so
what is in git is only code and prose that this test runs; ``python notebooks/strip.py`` cleans a
notebook after editing it in Jupyter.  Each notebook is executed with nbclient on this venv's
``python3`` kernel with small settings (the ``MXDL_NB_*`` environment variables its first cell reads),
and any cell that raises fails the test.
"""
import importlib.util
import re
from pathlib import Path

import nbclient  # nbclient, nbformat and ipykernel are the test extras: pip install -e '.[test]'
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = ["01_function_and_model", "02_loss_and_cost", "03_gradients_and_optimization",
             "04_mnist_demo", "05_the_rest_of_the_talk"]
CELL_TIMEOUT = 300  # seconds; the whole run takes well under a minute


def _strip_tool():
    spec = importlib.util.spec_from_file_location("strip", NOTEBOOK_DIR / "strip.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read(stem):
    return nbformat.read(NOTEBOOK_DIR / f"{stem}.ipynb", as_version=4)


def _code(nb):
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


def test_the_notebooks_are_there():
    assert sorted(path.stem for path in NOTEBOOK_DIR.glob("*.ipynb")) == NOTEBOOKS


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_committed_notebook_is_clean(stem):
    nb = _read(stem)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{stem}: a cell has outputs; run python notebooks/strip.py"
            assert cell.execution_count is None, f"{stem}: a cell has an execution_count"
        assert "execution" not in cell.metadata
    assert nb.metadata.kernelspec.name == "python3"
    # Byte for byte what the strip tool writes: one canonical format, so diffs show only real edits.
    assert _strip_tool().is_clean(NOTEBOOK_DIR / f"{stem}.ipynb")


def test_strip_tool_removes_outputs_and_checks(tmp_path, capsys):
    tool = _strip_tool()
    nb = _read("01_function_and_model")
    code_cell = next(cell for cell in nb.cells if cell.cell_type == "code")
    code_cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
    code_cell.execution_count = 3
    code_cell.metadata["execution"] = {"iopub.status.idle": "2024-01-01T00:00:00Z"}
    dirty = tmp_path / "dirty.ipynb"
    nbformat.write(nb, dirty)
    assert tool.main(["--check", str(dirty)]) == 1
    assert "dirty.ipynb: has outputs" in capsys.readouterr().err
    assert tool.main([str(dirty)]) == 0
    assert tool.main(["--check", str(dirty)]) == 0
    assert dirty.read_text() == (NOTEBOOK_DIR / "01_function_and_model.ipynb").read_text()


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_notebook_imports_mxdl_instead_of_copying_it(stem):
    code = "\n".join(_code(_read(stem)))
    assert re.search(r"^(from mxdl[ .]|import mxdl)", code, re.MULTILINE)
    assert not re.search(r"^class ", code, re.MULTILINE), "models and helpers belong in mxdl/"
    assert not re.search(r"^def train_epoch", code, re.MULTILINE), "the talk's loop is mxdl.train's"
    first = _code(_read(stem))[0]
    assert "os.environ" in first, "the first code cell holds the parameters"


def _run(stem, monkeypatch, tmp_path, stop_after=None, **env):
    """Execute notebook ``stem`` headless with environment ``env``; return the executed notebook.

    ``stop_after``: run only the cells up to the first one whose source contains this text.
    """
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("MXNET_HOME", str(tmp_path / "mxnet_home"))  # never touch (or download into) ~/.mxnet
    nb = _read(stem)
    if stop_after is not None:
        last = next(i for i, cell in enumerate(nb.cells) if stop_after in cell.source)
        nb.cells = nb.cells[:last + 1]
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError naming the cell if any cell raises
    return nb


def _text(nb):
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                parts.append(output.text)
            elif "text/plain" in output.get("data", {}):
                parts.append(output.data["text/plain"])
    return "\n".join(parts)


def _images(nb):
    return sum("image/png" in output.get("data", {})
               for cell in nb.cells for output in cell.get("outputs", []))


def test_01_function_and_model_runs(monkeypatch, tmp_path):
    nb = _run("01_function_and_model", monkeypatch, tmp_path)
    text = _text(nb)
    assert "Line(y = w*x, 1 weight, w=2.0000)" in text
    assert ("y = 2x : table -> circle, diamond, diamond   0 mistake(s);  "
            "training points correct: 100.0%") in text
    assert _images(nb) == 2


@pytest.mark.slow
def test_02_loss_and_cost_runs(monkeypatch, tmp_path):
    nb = _run("02_loss_and_cost", monkeypatch, tmp_path)
    text = _text(nb)
    # w = 2 classifies every training and test point: accuracy 1 by evaluate, the metric and by hand.
    assert re.search(r"^   2 \|    1\.000   1\.000  1\.000  \|    1\.000   1\.000  1\.000  \|", text,
                     re.MULTILINE)
    assert _images(nb) == 1


@pytest.mark.slow
def test_03_gradients_and_optimization_runs(monkeypatch, tmp_path):
    nb = _run("03_gradients_and_optimization", monkeypatch, tmp_path, MXDL_NB_EPOCHS=3)
    text = _text(nb)
    assert "diverged -- the cost became" in text  # DivergedError caught, cell marked, no crash
    assert re.search(r"^  0\.0001 \|.*\|\s+crawls$", text, re.MULTILINE)  # GD with the tiny rate crawls
    assert re.search(r"^\s+1\s+SGD\s+0\.05\s+240\s", text, re.MULTILINE)  # SGD: 240 updates per epoch
    assert re.search(r"^\s+240\s+GD\s+0\.05\s+1\s", text, re.MULTILINE)  # GD: one update per epoch
    assert _images(nb) == 4


@pytest.mark.slow
def test_04_mnist_demo_runs_on_tiny_data(monkeypatch, tmp_path, make_idx_dataset):
    data_dir = make_idx_dataset(n_train=300, n_test=100)
    nb = _run("04_mnist_demo", monkeypatch, tmp_path, MXDL_NB_DATA_DIR=data_dir, MXDL_NB_LIMIT=200,
              MXDL_NB_EPOCHS=1, MXDL_NB_STUDY_LIMIT=100, MXDL_NB_REACH_EPOCHS=2)
    text = _text(nb)
    # The talk's loop (train_epoch) and fit's fast path: one epoch from the same start, same weights.
    assert re.search(r"^train_epoch: Loss [\d.]+, Train_acc [\d.]+, 4 updates", text, re.MULTILINE)
    assert re.search(r"^fit:         Loss [\d.]+, Train_acc [\d.]+, 4 updates", text, re.MULTILINE)
    difference = float(re.search(r"weights after one epoch: (\S+)$", text, re.MULTILINE).group(1))
    assert difference < 1e-5
    assert "mnist-t10k: test accuracy 0.9 not reached in 2 epochs (250 updates)" in text
    assert f"using mnist: 200 train / 100 test images of 1x28x28, 10 classes, from {data_dir}" in text
    assert "Epoch 1. Loss" in text and "model predictions are:" in text
    assert re.search(r"^lenet\s+431,080\s", text, re.MULTILINE)
    # The study table: 100 samples -> SGD 100 updates per epoch, batches of 8 -> 13, of 64 -> 2, GD 1.
    updates = re.findall(r"^\s+(\d+)\s+(?:SGD|mini-batch SGD|GD)\s+\S+\s+(\d+)\s", text, re.MULTILINE)
    assert updates == [("1", "100"), ("8", "13"), ("64", "2"), ("100", "1")]
    # sample image, training curves, the meetup's numbers, digit strip, confusion, study curves, heatmap
    assert _images(nb) == 7


def test_04_mnist_demo_says_which_dataset_it_falls_back_to(monkeypatch, tmp_path):
    # No MNIST on this machine (an empty MXNET_HOME, no data dir): the data cell says so and uses the
    # shipped mnist-t10k -- digits, as in the talk -- even where Debian's Fashion-MNIST is installed.
    # Only the cells up to the data cell run: the rest is covered above.
    nb = _run("04_mnist_demo", monkeypatch, tmp_path, stop_after="print(f\"using {data}\")",
              MXDL_NB_LIMIT=100)
    text = _text(nb)
    assert "mnist: not on this machine, trying the next dataset" in text
    assert re.search(r"^using mnist-t10k: 100 train / 2000 test images", text, re.MULTILINE)
    assert "fashion" not in text


@pytest.mark.slow
def test_05_the_rest_of_the_talk_runs(monkeypatch, tmp_path):
    nb = _run("05_the_rest_of_the_talk", monkeypatch, tmp_path, MXDL_NB_EPOCHS=12, MXDL_NB_NUM_TRAIN=200)
    text = _text(nb)
    assert re.search(r"^y = w·x   best w = 2\.0000 .* wrong: 0 train, 0 test points$", text, re.MULTILINE)
    assert "100 samples, batch size 5 (mini-batch SGD): 20 updates per epoch" in text
    assert "updates per epoch recorded by fit: [20, 20], expected 20" in text
    assert re.search(r"^SGD \(batch 1\)\s+4800\s", text, re.MULTILINE)
    assert re.search(r"^logistic regression: .* test acc 1\.000", text, re.MULTILINE)
    assert re.search(r"^d cost / d W1 \(16, 784\) .* largest difference \d\.\de-0[6-9]$", text, re.MULTILINE)
    assert "mlp wd=0.01 on 200 digits, 12 epochs" in text
    assert _images(nb) == 7  # 2 families, updates per epoch, weight paths, regressions, backprop, overfitting
