"""Tests of mxdl.data: the IDX format, where files are found, downloads, datasets and pictures.

No test touches the network: an autouse fixture points MXNET_HOME at a temporary directory and
replaces the downloader's URL opener with one that serves only file:// URLs.
"""
import dataclasses
import gzip
import hashlib
import importlib.resources
import struct
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import mxdl.data as data
from mxdl.data import download as download_module
from mxdl.data import sources
from mxdl.errors import DataError

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
IDX_NAMES = tuple(sources.FILE_NAMES.values())
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
MNIST_TEST_FIRST_TEN = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    """Isolate every test: a private MXNet cache, the default mirror, and no network at all.

    Returns the list of (url, timeout) the downloader asked for.
    """
    monkeypatch.setenv("MXNET_HOME", str(tmp_path / "mxnet-home"))
    monkeypatch.delenv("MXNET_GLUON_REPO", raising=False)
    requests = []

    def urlopen(url, timeout=None):
        requests.append((url, timeout))
        if str(url).startswith("file:"):
            return urllib.request.urlopen(url, timeout=timeout)
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(download_module, "_urlopen", urlopen)
    return requests


@pytest.fixture
def fake_debian(tmp_path, monkeypatch):
    """Point fashion-mnist's system-wide directory (Debian's) at an empty temporary directory."""
    debian = tmp_path / "usr-share-datasets-fashion-mnist"
    spec = dataclasses.replace(sources.SPECS["fashion-mnist"],
                               system_dirs=((debian, "Debian's dataset-fashion-mnist"),))
    monkeypatch.setitem(sources.SPECS, "fashion-mnist", spec)
    return debian


def embedded_file(name):
    return sources.embedded_dir("mnist-t10k") / name


# --------------------------------------------------------------------------------- the IDX format

@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, suffix):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=7).astype(np.int64)  # integer arrays in 0..255 are accepted
    data.write_idx(tmp_path / ("images" + suffix), images)
    data.write_idx(tmp_path / ("labels" + suffix), labels)

    back = data.read_idx(tmp_path / ("images" + suffix))
    assert back.dtype == np.uint8 and back.shape == (7, 28, 28)
    np.testing.assert_array_equal(back, images)
    np.testing.assert_array_equal(data.read_idx(tmp_path / ("labels" + suffix)), labels)
    back[0, 0, 0] = 1  # an ordinary writable array

    raw = (tmp_path / ("images" + suffix)).read_bytes()
    if suffix:
        assert raw[:2] == b"\x1f\x8b"
        raw = gzip.decompress(raw)
    assert struct.unpack(">IIII", raw[:16]) == (2051, 7, 28, 28)
    assert struct.unpack(">II", gzip.decompress((tmp_path / "labels.gz").read_bytes())[:8]
                         if suffix else (tmp_path / "labels").read_bytes()[:8]) == (2049, 7)
    # Atomic write: no temporary files left beside the results.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["images" + suffix, "labels" + suffix])


def test_write_idx_rejects_what_is_not_bytes(tmp_path):
    with pytest.raises(ValueError, match="0..255"):
        data.write_idx(tmp_path / "x", np.array([0, 256]))
    with pytest.raises(ValueError, match="0..255"):
        data.write_idx(tmp_path / "x", np.zeros(3, dtype=np.float32))
    assert not list(tmp_path.iterdir())


def _idx_bytes(array):
    array = np.asarray(array, dtype=np.uint8)
    return struct.pack(f">HBB{array.ndim}I", 0, 8, array.ndim, *array.shape) + array.tobytes()


GOOD_IMAGES = _idx_bytes(np.random.default_rng(0).integers(0, 256, size=(10, 28, 28)))
GOOD_LABELS = _idx_bytes(np.arange(10) % 10)

BROKEN_FILES = {
    # case: (file name, contents, reader, words the message must contain)
    "not IDX at all": ("images", b"PK\x03\x04 this is a zip file" * 4, data.read_idx, "bad magic number"),
    "float IDX": ("images", b"\x00\x00\x0d\x01" + b"\x00" * 12, data.read_idx, "bad magic number"),
    "labels read as images": ("labels", GOOD_LABELS, data.read_images, "expected 2051"),
    "images read as labels": ("images", GOOD_IMAGES, data.read_labels, "expected 2049"),
    "truncated data": ("images", GOOD_IMAGES[:-100], data.read_idx, "truncated"),
    "truncated header": ("images", GOOD_IMAGES[:10], data.read_idx, "truncated"),
    "trailing bytes": ("images", GOOD_IMAGES + b"\x00" * 5, data.read_idx, "5 unexpected bytes"),
    "label out of range": ("labels", _idx_bytes([1, 2, 10, 3]), data.read_labels, "outside 0..9"),
    "not 28x28": ("images", _idx_bytes(np.zeros((3, 27, 28))), data.read_images, "27x28"),
    "bad gzip": ("images.gz", GOOD_IMAGES, data.read_idx, "not a valid gzip file"),
    "truncated gzip": ("images.gz", gzip.compress(GOOD_IMAGES)[:4000], data.read_idx,
                       "not a valid gzip file"),
    "gzip without .gz": ("images", gzip.compress(GOOD_IMAGES), data.read_idx, "name it *.gz"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_FILES))
def test_broken_files_are_data_errors_naming_the_file(tmp_path, case):
    name, contents, reader, words = BROKEN_FILES[case]
    path = tmp_path / name
    path.write_bytes(contents)
    with pytest.raises(DataError) as err:
        reader(path)
    assert str(path) in str(err.value)
    assert words in str(err.value)


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="cannot read .*nothing-here"):
        data.read_idx(tmp_path / "nothing-here")


def test_images_and_labels_must_match_in_count(tmp_path):
    (tmp_path / "images").write_bytes(_idx_bytes(np.zeros((10, 28, 28))))
    (tmp_path / "labels").write_bytes(_idx_bytes(np.zeros(9)))
    with pytest.raises(DataError) as err:
        data.read_pair(tmp_path / "images", tmp_path / "labels")
    message = str(err.value)
    assert str(tmp_path / "images") in message and str(tmp_path / "labels") in message
    assert "10 images" in message and "9 labels" in message


def test_a_corrupt_dataset_is_a_data_error_not_a_missing_one(make_idx_dataset):
    directory = make_idx_dataset(20, 10, gz=False)
    labels = directory / "t10k-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:-1])  # 10 images, 9 labels
    with pytest.raises(DataError) as err:
        data.load_dataset("mnist", data_dir=directory)
    assert not isinstance(err.value, data.DataNotFoundError)
    assert str(labels) in str(err.value)


# ------------------------------------------------------------------- the embedded MNIST test set

def test_embedded_mnist_test_set_is_the_real_one():
    with importlib.resources.as_file(embedded_file("t10k-images-idx3-ubyte.gz")) as path:
        images = data.read_images(path)
    with importlib.resources.as_file(embedded_file("t10k-labels-idx1-ubyte.gz")) as path:
        labels = data.read_labels(path)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert round(float(images.mean()), 2) == 33.79
    assert np.bincount(labels, minlength=10).tolist() == MNIST_TEST_COUNTS
    assert labels[:10].tolist() == MNIST_TEST_FIRST_TEN


@pytest.mark.parametrize("name", ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])
def test_embedded_files_match_the_checksum_table(name):
    with importlib.resources.as_file(embedded_file(name + ".gz")) as path:
        assert data.sha256_uncompressed(path) == data.SHA256["mnist"][name]


def test_mnist_t10k_is_8000_train_and_2000_test():
    dataset = data.load_dataset("mnist-t10k")
    X, y = dataset.train
    X_test, y_test = dataset.test
    assert X.shape == (8000, 1, 28, 28) and X_test.shape == (2000, 1, 28, 28)
    assert X.dtype == np.float32 and X_test.dtype == np.float32
    assert y.dtype == np.int32 and y_test.dtype == np.int32 and y.shape == (8000,)
    assert X.min() == 0.0 and X.max() == 1.0 and X_test.min() >= 0.0 and X_test.max() <= 1.0
    assert y[:10].tolist() == MNIST_TEST_FIRST_TEN
    assert (np.bincount(y, minlength=10) + np.bincount(y_test, minlength=10)).tolist() == MNIST_TEST_COUNTS
    with importlib.resources.as_file(embedded_file("t10k-images-idx3-ubyte.gz")) as path:
        images = data.read_images(path)
    np.testing.assert_array_equal(X[:, 0], images[:8000].astype(np.float32) / 255)
    np.testing.assert_array_equal(X_test[:, 0], images[8000:].astype(np.float32) / 255)
    assert dataset.classes == [str(d) for d in range(10)]
    assert dataset.name == "mnist-t10k" and "shipped with mxdl" in dataset.source
    assert "8000 train / 2000 test" in str(dataset)


def test_limit_takes_the_first_training_samples():
    full = data.load_dataset("mnist-t10k")
    small = data.load_dataset("mnist-t10k", limit=100)
    assert small.train[0].shape == (100, 1, 28, 28) and small.train[1].shape == (100,)
    np.testing.assert_array_equal(small.train[0], full.train[0][:100])
    np.testing.assert_array_equal(small.train[1], full.train[1][:100])
    assert len(small.test[1]) == 2000  # the test set is never cut
    assert len(data.load_dataset("mnist-t10k", limit=10**6).train[1]) == 8000


@pytest.mark.parametrize("limit", [0, -5, 2.5, True, "10"])
def test_bad_limit_is_a_data_error(limit):
    with pytest.raises(DataError, match="limit"):
        data.load_dataset("mnist-t10k", limit=limit)


def test_unknown_dataset_names_the_choices():
    with pytest.raises(DataError, match="mnist, fashion-mnist, mnist-t10k"):
        data.load_dataset("cifar10")
    assert data.DATASETS == ("mnist", "fashion-mnist", "mnist-t10k")


# ----------------------------------------------------------------------------- where files are

def test_search_order_data_dir_then_cache_then_debian(make_idx_dataset, fake_debian):
    data_dir = make_idx_dataset(30, 10, name="mine")
    cache = make_idx_dataset(20, 10, name="mxnet-home/datasets/fashion-mnist")
    make_idx_dataset(10, 10, name=fake_debian.name, gz=False)
    assert cache == data.cache_dir("fashion-mnist")

    dataset = data.load_dataset("fashion-mnist", data_dir=data_dir, download=False)
    assert len(dataset.train[1]) == 30 and dataset.source.startswith(str(data_dir))
    dataset = data.load_dataset("fashion-mnist", download=False)
    assert len(dataset.train[1]) == 20 and dataset.source.startswith(str(cache))
    (cache / "train-labels-idx1-ubyte.gz").unlink()  # an incomplete directory does not count
    dataset = data.load_dataset("fashion-mnist", download=False)
    assert len(dataset.train[1]) == 10 and dataset.source.startswith(str(fake_debian))
    assert "Debian" in dataset.source
    assert dataset.classes[0] == "T-shirt/top" and dataset.classes[9] == "Ankle boot"


def test_find_files_returns_the_four_paths(make_idx_dataset):
    directory = make_idx_dataset(10, 10, gz=False)
    (directory / "t10k-images-idx3-ubyte.gz").write_bytes(b"")  # the raw file wins over .gz
    files = data.find_files("mnist", data_dir=directory)
    assert files == {role: directory / name for role, name in sources.FILE_NAMES.items()}


def test_mxnet_home_is_respected(tmp_path, monkeypatch, make_idx_dataset):
    monkeypatch.setenv("MXNET_HOME", str(tmp_path / "elsewhere"))
    directory = make_idx_dataset(15, 10, name="elsewhere/datasets/mnist")
    assert data.cache_dir("mnist") == directory
    dataset = data.load_dataset("mnist", download=False)
    assert len(dataset.train[1]) == 15 and dataset.source.startswith(str(directory))

    monkeypatch.delenv("MXNET_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.cache_dir("mnist") == tmp_path / "home" / ".mxnet" / "datasets" / "mnist"


def test_not_found_is_one_message_listing_places_and_remedies(tmp_path, fake_debian):
    data_dir = tmp_path / "my-data"
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_dataset("fashion-mnist", data_dir=data_dir, download=False)
    message = str(err.value)
    assert "\n" not in message
    for text in (str(data_dir), str(data.cache_dir("fashion-mnist")), str(fake_debian), *IDX_NAMES,
                 "--data-dir", "apt-get install dataset-fashion-mnist", "mnist-t10k"):
        assert text in message
    assert err.value.searched == [data_dir, data.cache_dir("fashion-mnist"), fake_debian]
    assert err.value.download_error is None
    with pytest.raises(data.DataNotFoundError):
        data.find_files("fashion-mnist", data_dir=data_dir)


def test_offline_download_fails_fast_with_one_clear_message(offline):
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_dataset("mnist", progress=False)
    message = str(err.value)
    url = ("https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/gluon/dataset/mnist/"
           "train-images-idx3-ubyte.gz")
    assert "\n" not in message and url in message and "network disabled in tests" in message
    assert str(data.cache_dir("mnist")) in message and "mnist-t10k" in message
    assert offline == [(url, download_module.TIMEOUT)]  # one attempt, then a clear error
    assert 0 < download_module.TIMEOUT <= 30
    assert not data.cache_dir("mnist").exists() or not any(data.cache_dir("mnist").iterdir())


# ------------------------------------------------------------------------------------ downloads

@pytest.fixture
def file_mirror(tmp_path, monkeypatch, make_idx_dataset):
    """A local Gluon mirror (file:// URL, via MXNET_GLUON_REPO) holding a tiny synthetic 'mnist'."""
    mirror = tmp_path / "mirror"
    make_idx_dataset(25, 10, name="mirror/gluon/dataset/mnist")
    monkeypatch.setenv("MXNET_GLUON_REPO", mirror.as_uri() + "/")
    return mirror / "gluon" / "dataset" / "mnist"


def test_download_with_wrong_checksum_is_rejected_and_leaves_nothing(file_mirror):
    with pytest.raises(data.ChecksumError) as err:
        data.load_dataset("mnist", progress=False)
    assert not isinstance(err.value, data.DataNotFoundError)  # never a reason to fall back
    assert "train-images-idx3-ubyte.gz" in str(err.value) and "nothing was saved" in str(err.value)
    cache = data.cache_dir("mnist")
    assert not cache.exists() or list(cache.iterdir()) == []
    with pytest.raises(data.ChecksumError):
        data.load_dataset_or_fallback("mnist", progress=False)


def test_download_with_right_checksum_fills_the_cache(file_mirror, monkeypatch, offline):
    sums = {name: data.sha256_uncompressed(file_mirror / (name + ".gz")) for name in IDX_NAMES}
    monkeypatch.setitem(data.SHA256, "mnist", sums)
    dataset = data.load_dataset("mnist", progress=False)
    assert len(dataset.train[1]) == 25 and "downloaded from file:" in dataset.source
    cache = data.cache_dir("mnist")
    assert sorted(p.name for p in cache.iterdir()) == sorted(name + ".gz" for name in IDX_NAMES)
    for name in IDX_NAMES:
        assert (cache / (name + ".gz")).read_bytes() == (file_mirror / (name + ".gz")).read_bytes()
    assert len(offline) == 4
    data.load_dataset("mnist")  # now from the cache: no further download
    assert len(offline) == 4


def test_download_file_checks_uncompressed_contents(tmp_path):
    payload = _idx_bytes(np.arange(10))
    source = tmp_path / "served.gz"
    source.write_bytes(gzip.compress(payload))
    target = tmp_path / "cache" / "labels.gz"
    data.download_file(source.as_uri(), target, sha256=hashlib.sha256(payload).hexdigest(),
                       progress=False)
    assert target.read_bytes() == source.read_bytes()

    target.write_bytes(b"the previous file")
    with pytest.raises(data.ChecksumError):
        data.download_file(source.as_uri(), target, sha256="0" * 64, progress=False)
    source.write_bytes(gzip.compress(payload)[:-12])  # cut short: not a complete gzip stream
    with pytest.raises(data.ChecksumError, match="not a valid gzip"):
        data.download_file(source.as_uri(), target, sha256=hashlib.sha256(payload).hexdigest(),
                           progress=False)
    assert target.read_bytes() == b"the previous file"  # untouched, and no temporary files left
    assert [p.name for p in target.parent.iterdir()] == ["labels.gz"]


def test_mirror_url_is_mxnets():
    assert data.mirror_url("fashion-mnist", "t10k-labels-idx1-ubyte.gz") == (
        "https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/gluon/dataset/fashion-mnist/"
        "t10k-labels-idx1-ubyte.gz")


# ------------------------------------------------------------------------------------- fallback

def test_missing_mnist_falls_back_to_mnist_t10k_with_a_note():
    dataset, note = data.load_dataset_or_fallback("mnist", limit=500, progress=False)
    assert dataset.name == "mnist-t10k" and len(dataset.train[1]) == 500
    assert "\n" not in note and "mnist-t10k" in note and str(data.cache_dir("mnist")) in note
    assert "network disabled in tests" in note


def test_fallback_only_for_missing_default_mnist(tmp_path, make_idx_dataset, fake_debian):
    with pytest.raises(data.DataNotFoundError):  # a directory you named is never replaced
        data.load_dataset_or_fallback("mnist", data_dir=tmp_path / "typo", download=False)
    with pytest.raises(data.DataNotFoundError):
        data.load_dataset_or_fallback("fashion-mnist", download=False)
    cache = make_idx_dataset(20, 10, name="mxnet-home/datasets/mnist", gz=False)
    labels = cache / "train-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:-1] + b"\x0c")  # a label 12: corrupt, not missing
    with pytest.raises(DataError, match="outside 0..9"):
        data.load_dataset_or_fallback("mnist", download=False)
    directory = make_idx_dataset(20, 10, name="fine")
    dataset, note = data.load_dataset_or_fallback("mnist", data_dir=directory)
    assert note is None and dataset.name == "mnist" and len(dataset.train[1]) == 20


# ------------------------------------------------------------------- real Fashion-MNIST (Debian)

def _debian_files():
    files = [DEBIAN_FASHION / (name + ".gz") for name in IDX_NAMES]
    if not all(path.is_file() for path in files):
        pytest.skip(f"Debian's dataset-fashion-mnist is not installed in {DEBIAN_FASHION} "
                    "(apt-get install dataset-fashion-mnist)")
    return files


def test_debian_fashion_mnist_loads_60000_10000():
    _debian_files()
    dataset = data.load_dataset("fashion-mnist", download=False)
    assert dataset.source.startswith(str(DEBIAN_FASHION))
    assert dataset.train[0].shape == (60000, 1, 28, 28) and dataset.test[0].shape == (10000, 1, 28, 28)
    assert dataset.train[0].dtype == np.float32 and dataset.train[1].dtype == np.int32
    assert np.bincount(dataset.train[1]).tolist() == [6000] * 10
    assert np.bincount(dataset.test[1]).tolist() == [1000] * 10


def test_debian_fashion_mnist_matches_the_checksum_table():
    for path in _debian_files():
        assert data.sha256_uncompressed(path) == data.SHA256["fashion-mnist"][path.name[:-3]], path


# ---------------------------------------------------------------- synthetic data of conftest.py

def test_synthetic_idx_dataset_is_learnable_by_logistic_regression(make_idx_dataset):
    dataset = data.load_dataset("mnist", data_dir=make_idx_dataset(600, 200, gz=False))
    (X, y), (X_test, y_test) = dataset.train, dataset.test
    assert X.shape == (600, 1, 28, 28) and X_test.shape == (200, 1, 28, 28)
    assert np.bincount(y).tolist() == [60] * 10
    # Softmax regression by full-batch gradient descent, written out in numpy.
    X, X_test = X.reshape(len(X), -1), X_test.reshape(len(X_test), -1)
    W, b, Y = np.zeros((784, 10), np.float32), np.zeros(10, np.float32), np.eye(10)[y]
    for _ in range(30):
        z = X @ W + b
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        gradient = (p - Y) / len(X)
        W -= 0.5 * X.T @ gradient
        b -= 0.5 * gradient.sum(axis=0)
    accuracy = ((X_test @ W + b).argmax(axis=1) == y_test).mean()
    assert accuracy > 0.9


def test_to_X_scales_once_to_float32_in_unit_range():
    images = np.array([[[0, 51], [255, 102]]] * 3, dtype=np.uint8)
    X = data.to_X(images)
    assert X.shape == (3, 1, 2, 2) and X.dtype == np.float32
    np.testing.assert_array_equal(X[0, 0], np.array([[0, 0.2], [1, 0.4]], dtype=np.float32))
    assert data.to_X(images[0]).shape == (1, 1, 2, 2)
    assert data.to_y(np.array([3, 9], dtype=np.uint8)).dtype == np.int32


def test_download_checksum_covers_every_gzip_member(tmp_path):
    """A file with an extra gzip member is not the file of the checksum: the reader would read it."""
    payload = _idx_bytes(np.arange(10))
    source = tmp_path / "served.gz"
    source.write_bytes(gzip.compress(payload) + gzip.compress(b"\0" * 100))
    target = tmp_path / "cache" / "labels.gz"
    with pytest.raises(data.ChecksumError, match="not the expected file"):
        data.download_file(source.as_uri(), target, sha256=hashlib.sha256(payload).hexdigest(),
                           progress=False)
    assert not target.parent.exists() or list(target.parent.iterdir()) == []
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(source.read_bytes())  # put there by hand: the reader refuses it too
    with pytest.raises(DataError, match="unexpected bytes"):
        data.read_idx(target)


def test_download_has_a_deadline_for_the_whole_file(tmp_path, monkeypatch):
    """A server that trickles one byte per read (each read well inside the timeout) is given up on."""
    clock = [0.0]

    class Trickle:
        headers = {}

        def read1(self, n):
            clock[0] += 5.0  # every byte takes 5 s: never a timeout, but no end either
            return b"\x1f"

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(download_module, "_urlopen", lambda url, timeout: Trickle())
    monkeypatch.setattr(download_module.time, "monotonic", lambda: clock[0])
    target = tmp_path / "cache" / "labels.gz"
    with pytest.raises(data.DownloadError, match="took longer than 600 s"):
        data.download_file("http://mirror/labels.gz", target, sha256="0" * 64, progress=False)
    assert clock[0] <= download_module.DEADLINE + 5.0
    assert list(target.parent.iterdir()) == []
    # MXDL_DOWNLOAD_DEADLINE sets it (a slow link), read at call time
    clock[0] = 0.0
    monkeypatch.setenv("MXDL_DOWNLOAD_DEADLINE", "3600")
    with pytest.raises(data.DownloadError, match="took longer than 3600 s"):
        data.download_file("http://mirror/labels.gz", target, sha256="0" * 64, progress=False)
    assert 3600 < clock[0] <= 3605
