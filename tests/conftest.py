"""Shared test helpers: tiny, learnable MNIST-format datasets written as real IDX files.

Use the ``make_idx_dataset`` fixture (a factory) in any test that needs data on disk::

    def test_something(make_idx_dataset):
        data_dir = make_idx_dataset(n_train=300, n_test=100)   # tmp dir with the four IDX files
        # e.g. run a script with --dataset mnist --data-dir data_dir, or
        # mxdl.data.load_dataset("mnist", data_dir=data_dir)

or call :func:`write_idx_dataset` / :func:`synthetic_digits` directly. No network is ever used.
"""
import os
import runpy
from pathlib import Path

import numpy as np
import pytest

from mxdl.data import write_idx

IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _templates(size=28):
    """Ten distinct 28x28 patterns in [0, 1]: class k = a thick stroke at angle k*18 degrees through
    the centre plus a round blob on a ring at angle k*36 degrees."""
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    centre = (size - 1) / 2
    templates = np.zeros((10, size, size))
    for k in range(10):
        angle = np.pi * k / 10
        dr, dc = np.sin(angle), np.cos(angle)
        along = (rows - centre) * dr + (cols - centre) * dc          # position along the stroke
        across = np.abs((rows - centre) * dc - (cols - centre) * dr)  # distance from the stroke's line
        stroke = (across < 2.5) & (np.abs(along) < 11)
        blob_angle = 2 * np.pi * k / 10
        br, bc = centre + 9 * np.sin(blob_angle), centre + 9 * np.cos(blob_angle)
        blob = np.exp(-((rows - br) ** 2 + (cols - bc) ** 2) / (2 * 3.5 ** 2))
        templates[k] = np.maximum(stroke.astype(np.float64), blob)
    return templates


def synthetic_digits(n, seed=0, noise=0.15, max_shift=2):
    """``(images, labels)``: ``n`` 28x28 uint8 images of 10 learnable patterns, and uint8 labels 0..9.

    Each sample is its class's template (:func:`_templates`), shifted by up to ``max_shift`` pixels,
    scaled in brightness, plus Gaussian pixel noise of std ``noise``. A logistic regression
    (Dense(10), default init) with the demo's settings (SGD lr 0.1, batch 64) on 600 training
    samples reaches about 0.8 test accuracy after 1 epoch, > 0.9 after 2 and ~0.97 after 4 (with
    300 samples: ~0.95 after 4 epochs), so "it learned" is a real, fast test. Labels cycle through
    all classes in random order (balanced).
    """
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    templates = _templates()
    images = np.empty((n, 28, 28), dtype=np.uint8)
    for i, label in enumerate(labels):
        shift = rng.integers(-max_shift, max_shift + 1, size=2)
        image = np.roll(templates[label], tuple(shift), axis=(0, 1)) * rng.uniform(0.7, 1.0)
        image = image + rng.normal(0.0, noise, size=image.shape)
        images[i] = np.round(np.clip(image, 0.0, 1.0) * 255)
    return images, labels


def write_idx_dataset(directory, n_train=600, n_test=200, *, seed=0, gz=True, noise=0.15):
    """Write the four standard MNIST files of a synthetic dataset into ``directory``; return it.

    ``gz=True`` writes ``*.gz`` files, ``gz=False`` raw ones. Train and test use different seeds.
    """
    directory.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    train = synthetic_digits(n_train, seed=seed, noise=noise)
    test = synthetic_digits(n_test, seed=seed + 1_000_003, noise=noise)
    for name, array in zip(IDX_FILES, (*train, *test)):
        write_idx(directory / (name + suffix), array)
    return directory


@pytest.fixture
def make_idx_dataset(tmp_path):
    """Factory fixture: ``make_idx_dataset(n_train=600, n_test=200, *, name="idx", seed=0, gz=True,
    noise=0.15)`` writes a synthetic MNIST-format dataset into ``tmp_path / name`` and returns that
    directory (a :class:`pathlib.Path` holding the four standard IDX files)."""
    def make(n_train=600, n_test=200, *, name="idx", seed=0, gz=True, noise=0.15):
        return write_idx_dataset(tmp_path / name, n_train, n_test, seed=seed, gz=gz, noise=noise)
    return make


SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.fixture
def run_main(capsys):
    """Run ``scripts/<name>``'s ``main(argv)`` in this process, as its ``__main__`` does.

    Returns ``(exit code, stdout, stderr)``; argparse's own errors (exit 2) are caught too.  Faster
    than a subprocess, for the many bad-input cases; each script keeps one real subprocess test.
    """
    from mxdl import cli

    def run(name, argv):
        main = runpy.run_path(str(SCRIPTS / name))["main"]
        try:
            code = cli.run(main, [str(a) for a in argv])
        except SystemExit as exit_:
            code = exit_.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


def blobs(n=120, seed=0, scale=0.5):
    """Three Gaussian blobs in 2-D (X float32 (n, 2), y int32 in 0..2): a tiny multiclass task."""
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 3, size=n)
    centres = np.array([[0, 3], [3, -2], [-3, -2]], dtype="float32")
    X = centres[y] + rng.normal(scale=scale, size=(n, 2)).astype("float32")
    return X.astype("float32"), y.astype("int32")


def processes_mentioning(text):
    """Pids of the running processes whose command line contains ``text`` (this one excluded)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:  # it ended while we looked
                pass
    return pids
