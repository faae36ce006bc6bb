"""The catalogue of bad inputs (issue 14): each case through the real command line.

Every case runs ``scripts/*.py`` in a subprocess, as a user would, and checks what the user gets:
exactly one ``error: ...`` line on stderr, no traceback, a non-zero exit, and earlier files left as
they were.  Cases that need root (device files) or a mountable tmpfs (a full disk) skip elsewhere.
No network: downloads come from a local HTTP server or a file:// mirror.
"""
import gzip
import http.server
import os
import resource
import shutil
import signal
import stat
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import IDX_FILES, synthetic_digits, write_idx_dataset
from mxdl.data import write_idx
from mxdl.data.sources import embedded_dir

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
T10K = embedded_dir("mnist-t10k")
TRAIN = ("--quiet", "--epochs", "1", "--limit", "300")  # the M, on the shipped digits
needs_root = pytest.mark.skipif(not IS_ROOT, reason="needs root (mknod, mount)")


def run_script(script, *args, home, timeout=300, env=None):
    """Run ``scripts/<script>`` with ``args``; MXNet's cache is ``home`` (never ~/.mxnet)."""
    environ = {key: value for key, value in os.environ.items() if key != "MXNET_GLUON_REPO"}
    environ.update({"PYTHONPATH": str(ROOT), "MXNET_HOME": str(home), **(env or {})})
    return subprocess.run([sys.executable, str(SCRIPTS / script), *map(str, args)], env=environ,
                          capture_output=True, text=True, timeout=timeout, cwd=str(home))


def assert_one_error(proc, *needles):
    """Non-zero exit, no traceback, and stderr is exactly one line ``error: ...`` holding ``needles``."""
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def home(tmp_path):
    """An empty MXNet cache and working directory for one case."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture(scope="module")
def good_params(tmp_path_factory):
    """A logreg trained for one epoch through the real command line (``--save``)."""
    directory = tmp_path_factory.mktemp("good")
    path = directory / "logreg.params"
    proc = run_script("mnist.py", *TRAIN, "--dataset", "mnist-t10k", "--save", path, home=directory)
    assert proc.returncode == 0, proc.stderr
    return path


# ----------------------------------------------------------------- item 1: what --save may replace

@needs_root
@pytest.mark.parametrize("kind", ["device", "fifo", "directory"])
def test_save_refuses_special_files_and_leaves_them(home, kind):
    target = home / kind
    if kind == "device":
        os.mknod(target, 0o644 | stat.S_IFCHR, os.makedev(1, 3))  # a private /dev/null
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        target.mkdir()
    before = os.lstat(target)
    proc = run_script("mnist.py", *TRAIN, "--dataset", "mnist-t10k", "--save", target, home=home)
    assert_one_error(proc, str(target), "not a regular file")
    after = os.lstat(target)
    assert (after.st_mode, after.st_rdev) == (before.st_mode, before.st_rdev)


def test_save_writes_through_a_symlink_and_keeps_the_mode(home):
    target, link, private = home / "target.params", home / "link.params", home / "private.params"
    target.write_bytes(b"old")
    link.symlink_to(target)
    private.write_bytes(b"old")
    private.chmod(0o600)
    for path in (link, private):
        proc = run_script("mnist.py", *TRAIN, "--dataset", "mnist-t10k", "--save", path, home=home)
        assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes()[:8] == struct.pack("<Q", 0x112)  # MXNet's params magic
    assert stat.S_IMODE(private.stat().st_mode) == 0o600 and private.read_bytes() != b"old"
    assert not [p for p in os.listdir(home) if p.endswith(".tmp")]


# -------------------------------------------------------------- item 3: headers that ask too much

def _corrupt_size(good, path, size):
    """A copy of params file ``good`` whose first array's second size is ``size`` (the 23 GB case)."""
    raw = bytearray(good.read_bytes())
    # list magic, reserved, count (3 x u64); array magic u32, stype i32, ndim u32; then the sizes
    raw[8 * 3 + 12 + 8:8 * 3 + 12 + 16] = struct.pack("<q", size)
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize("script", ["predict.py", "mnist.py"])
def test_params_header_asking_for_23_gb_is_refused(home, good_params, script):
    bad = _corrupt_size(good_params, home / "bad.params", 575_000_000)  # (10, 575e6) float32 = 23 GB
    if script == "predict.py":
        args = ["--params", bad, "--idx", T10K / "t10k-images-idx3-ubyte.gz", "--index", "0"]
    else:
        args = [*TRAIN, "--dataset", "mnist-t10k", "--load", bad]
    proc = run_script(script, *args, home=home)
    assert_one_error(proc, str(bad), "corrupt", "23,000,000,000 bytes")


# ----------------------------------------------------------------- item 5: NaN or inf weights

@pytest.mark.parametrize("script", ["predict.py", "mnist.py"])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_are_a_bad_file_not_a_bad_lr(home, good_params, script, value):
    import mxnet as mx
    arrays = mx.nd.load(str(good_params))
    name = sorted(arrays)[-1]  # the weight
    arrays[name][0, 0] = value
    bad = home / "diverged.params"
    mx.nd.save(str(bad), arrays)
    if script == "predict.py":
        args = ["--params", bad, "--idx", T10K / "t10k-images-idx3-ubyte.gz", "--index", "0"]
    else:
        args = [*TRAIN, "--dataset", "mnist-t10k", "--load", bad]
    line = assert_one_error(run_script(script, *args, home=home), str(bad), "is bad", "NaN or infinite")
    assert "learning rate" not in line


def _data_dir(home, name="data", n_train=30, n_test=10):
    return write_idx_dataset(home / name, n_train, n_test, gz=True)


def _gzip_bomb(path, images, inflated=1 << 30):
    """``images`` as a .gz IDX file, followed by gzip members that inflate to ``inflated`` zero bytes."""
    header = struct.pack(">HBB3I", 0, 8, 3, *images.shape)
    member = gzip.compress(b"\0" * (16 << 20), compresslevel=9)
    with open(path, "wb") as f:
        f.write(gzip.compress(header + images.tobytes()))
        for _ in range(inflated // (16 << 20)):
            f.write(member)


def test_gzip_bomb_is_refused_without_inflating_it(home):
    data_dir = _data_dir(home)
    images, _ = synthetic_digits(30)
    _gzip_bomb(data_dir / "train-images-idx3-ubyte.gz", images)
    assert (data_dir / "train-images-idx3-ubyte.gz").stat().st_size < 2 << 20  # 1 GiB inflated
    proc = run_script("mnist.py", *TRAIN, "--data-dir", data_dir, home=home)
    assert_one_error(proc, "train-images-idx3-ubyte.gz", "unexpected bytes")
    # Inflated whole, the file alone would take 1 GiB of memory.
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 < 900 << 20


def test_idx_header_larger_than_the_gz_can_hold_is_refused(home):
    data_dir = _data_dir(home)
    header = struct.pack(">HBB3I", 0, 8, 3, 4_000_000, 28, 28)  # 3 GB of images promised
    (data_dir / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + b"\0" * 1000))
    proc = run_script("mnist.py", *TRAIN, "--data-dir", data_dir, home=home)
    assert_one_error(proc, "train-images-idx3-ubyte.gz", "3,136,000,000 bytes", "can hold")


# ------------------------------------------------------------------------- item 10: data messages

def test_truncated_idx_with_a_huge_header_says_truncated_not_an_overflow(home):
    data_dir = _data_dir(home)
    (data_dir / "t10k-images-idx3-ubyte.gz").unlink()
    header = struct.pack(">HBB3I", 0, 8, 3, 0xFFFFFFFF, 0xFFFFFFFF, 0x0000FFFF)
    (data_dir / "t10k-images-idx3-ubyte").write_bytes(header + b"\1" * 100)
    proc = run_script("mnist.py", *TRAIN, "--data-dir", data_dir, home=home)
    line = assert_one_error(proc, "t10k-images-idx3-ubyte", "truncated")
    assert "unexpected bytes" not in line


def test_empty_test_set_names_the_file(home):
    data_dir = _data_dir(home)
    write_idx(data_dir / "t10k-images-idx3-ubyte.gz", np.zeros((0, 28, 28), np.uint8))
    write_idx(data_dir / "t10k-labels-idx1-ubyte.gz", np.zeros((0,), np.uint8))
    proc = run_script("mnist.py", *TRAIN, "--data-dir", data_dir, home=home)
    assert_one_error(proc, "test set", str(data_dir / "t10k-images-idx3-ubyte.gz"), "empty")


def test_data_dir_lacking_files_never_uses_another_copy(home):
    cache = _data_dir(home, name="datasets/mnist")  # a complete copy in MXNet's cache ...
    mine = _data_dir(home, name="mine")  # ... and the directory named, lacking one file
    (mine / "t10k-labels-idx1-ubyte.gz").unlink()
    proc = run_script("mnist.py", *TRAIN, "--data-dir", mine, home=home)
    assert_one_error(proc, str(mine), "lacks t10k-labels-idx1-ubyte", f"Another copy is in {cache}")


def test_predict_refuses_a_fifo_instead_of_hanging(home, good_params):
    fifo = home / "digit.png"
    os.mkfifo(fifo)
    proc = run_script("predict.py", "--params", good_params, fifo, home=home, timeout=120)
    assert_one_error(proc, str(fifo), "not a regular file")


def test_predict_prints_the_good_images_and_reports_the_bad(home, good_params):
    from PIL import Image
    images, _ = synthetic_digits(2)
    good = [home / "a.png", home / "b.png"]
    for path, image in zip(good, images):
        Image.fromarray(image).save(path)
    bad = home / "notes.png"
    bad.write_text("not a picture")
    proc = run_script("predict.py", "--params", good_params, good[0], bad, good[1], home=home)
    assert_one_error(proc, str(bad), "cannot read image")
    printed = proc.stdout.splitlines()
    assert [line.split(":")[0] for line in printed] == [str(good[0]), str(good[1])]


# --------------------------------------------------------------------------- item 9: downloads

class _Stall(http.server.BaseHTTPRequestHandler):
    """Sends the headers and the first bytes of a .gz file, then waits until the test ends."""

    sent = release = None

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        self.wfile.write(b"\x1f\x8b" + b"\0" * 4000)
        self.wfile.flush()
        type(self).sent.set()
        type(self).release.wait(120)

    def log_message(self, *args):
        pass


@pytest.fixture
def stalling_server():
    _Stall.sent, _Stall.release = threading.Event(), threading.Event()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Stall)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    _Stall.release.set()
    server.shutdown()


def _wait_for(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_sigterm_during_a_download_leaves_no_temporary_file(home, stalling_server):
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "MXNET_HOME": str(home),
               "MXNET_GLUON_REPO": stalling_server}
    proc = subprocess.Popen([sys.executable, str(SCRIPTS / "mnist.py"), *TRAIN, "--dataset", "mnist"],
                            env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    cache = home / "datasets" / "mnist"
    try:
        assert _Stall.sent.wait(120)
        _wait_for(lambda: cache.is_dir() and any(p.endswith(".tmp") for p in os.listdir(cache)))
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM and "Traceback" not in err
    assert os.listdir(cache) == []


def test_stale_temporary_files_of_killed_runs_are_removed(home, tmp_path):
    mirror = write_idx_dataset(tmp_path / "mirror/gluon/dataset/mnist", 20, 10)
    cache = home / "datasets" / "mnist"
    cache.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], text=True,
                          capture_output=True, check=True).stdout.strip()
    import socket
    host = socket.gethostname().replace(".", "_")[:32]
    stale = [cache / f".train-images-idx3-ubyte.gz.{host}-{dead}.abc{i}.tmp" for i in range(9)]
    for path in stale:
        path.write_bytes(b"half a download")
    proc = run_script("mnist.py", *TRAIN, "--dataset", "mnist", home=home,
                      env={"MXNET_GLUON_REPO": (tmp_path / "mirror").as_uri() + "/"})
    # The synthetic mirror's files are not MNIST: the checksum refuses them, leaving nothing behind.
    assert_one_error(proc, "not the expected file", "nothing was saved")
    assert os.listdir(cache) == []
