"""The catalogue of bad inputs (issue 14): each case through the real command line.

Every case runs ``scripts/*.py`` in a subprocess, as a user would, and checks what the user gets:
exactly one ``error: ...`` line on stderr, no traceback, a non-zero exit, and earlier files left as
they were.  Cases that need root (device files) or a mountable tmpfs (a full disk) skip elsewhere.
No network: downloads come from a local HTTP server or a file:// mirror.
"""
# Items 7 and 8 run through the real command line (``python -m mxdl.distributed.launch``) in
# tests/test_launch.py, not here: item 7 (kill -9 of the launcher) in
# test_sigkill_of_the_launcher_stops_the_whole_job (and ..._over_real_ssh); item 8 (ssh quoting) in
# test_launcher_bad_input_is_one_line (ids env-name, dash-host), with the remote command's quoting in
# test_ssh_remote_command_round_trips_hostile_values.  The launcher's bounds (absurd worker and
# server counts, a port in use) are there too, in test_launcher_bad_input_is_one_line.
import functools
import gzip
import http.server
import os
import re
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
from mxdl import files
from mxdl.data import write_idx
from mxdl.data.sources import embedded_dir

pytestmark = pytest.mark.slow  # a subprocess per case: ~5 s each (pytest -m "not slow" skips them)

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
T10K = embedded_dir("mnist-t10k")
TRAIN = ("--quiet", "--epochs", "1", "--limit", "300")  # the M, on the shipped digits
needs_root = pytest.mark.skipif(not IS_ROOT, reason="needs root (mknod, mount)")


def run_script(script, *args, home, timeout=300, env=None, prefix=()):
    """Run ``scripts/<script>`` (or ``-m module`` for a ``script`` starting with ``-m ``) with
    ``args``; MXNet's cache is ``home`` (never ~/.mxnet).  ``prefix``: a command to run it under."""
    environ = {key: value for key, value in os.environ.items() if key != "MXNET_GLUON_REPO"}
    environ.update({"PYTHONPATH": str(ROOT), "MXNET_HOME": str(home), **(env or {})})
    target = script.split() if script.startswith("-m ") else [str(SCRIPTS / script)]
    return subprocess.run([*prefix, sys.executable, *target, *map(str, args)], env=environ,
                          capture_output=True, text=True, timeout=timeout, cwd=str(home))


ONE_ERROR = re.compile(r"^([^:]+: )?error: ")  # "error: ..." (argparse: "prog: error: ...")


def assert_one_error(proc, *needles):
    """Non-zero exit, no traceback, and stderr is exactly one line ``error: ...`` holding ``needles``."""
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and ONE_ERROR.match(lines[0]), proc.stderr
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


@pytest.mark.parametrize("n, which", [(0, "training set"), (8000, "test set")])
def test_empty_mnist_t10k_sets_name_the_file(home, n, which):
    """mnist-t10k's two sets both come from the t10k file: its first 8000 images train, the rest test."""
    data_dir = home / "t10k"
    data_dir.mkdir()
    write_idx(data_dir / "t10k-images-idx3-ubyte.gz", np.zeros((n, 28, 28), np.uint8))
    write_idx(data_dir / "t10k-labels-idx1-ubyte.gz", np.zeros((n,), np.uint8))
    proc = run_script("mnist.py", *TRAIN, "--dataset", "mnist-t10k", "--data-dir", data_dir, home=home)
    assert_one_error(proc, which, str(data_dir / "t10k-images-idx3-ubyte.gz"), f"holds {n} images",
                     "empty")


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
    url, stop = _serve(_Stall)
    yield url
    _Stall.release.set()
    stop()


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
    host = files._HOST
    stale = [cache / f".train-images-idx3-ubyte.gz.{host}-{dead}.abc{i}.tmp" for i in range(9)]
    for path in stale:
        path.write_bytes(b"half a download")
    proc = run_script("mnist.py", *TRAIN, "--dataset", "mnist", home=home,
                      env={"MXNET_GLUON_REPO": (tmp_path / "mirror").as_uri() + "/"})
    # The synthetic mirror's files are not MNIST: the checksum refuses them, leaving nothing behind.
    assert_one_error(proc, "not the expected file", "nothing was saved")
    assert os.listdir(cache) == []


# ------------------------------------------- item 2: --out and --save are checked before training

def _blocker(home):
    path = home / "a-file"
    path.write_text("an earlier file")
    return path


OUTPUT_CASES = {
    # case: (flag, path relative to home (or absolute), words of the error)
    "--out names a file": ("--out", "a-file", "it is a file, not a folder"),
    "--out under /proc": ("--out", "/proc/mxdl-run", "/proc/mxdl-run"),
    "--out below a file": ("--out", "a-file/run", "Not a directory"),
    "--save below a file": ("--save", "a-file/logreg.params", "Not a directory"),
    "--out name too long": ("--out", "x" * 300, "File name too long"),
    "--save name too long": ("--save", "x" * 300 + ".params", "File name too long"),
}


@pytest.mark.parametrize("case", sorted(OUTPUT_CASES))
def test_bad_outputs_are_refused_before_training(home, case):
    flag, path, words = OUTPUT_CASES[case]
    blocker = _blocker(home)
    proc = run_script("mnist.py", *TRAIN, "--dataset", "mnist-t10k", flag, home / path, home=home)
    assert_one_error(proc, words)
    assert "Epoch" not in proc.stdout  # refused before any training
    assert blocker.read_text() == "an earlier file"


def _can_drop_root():
    """Root, setpriv, and a checkout and Python that user 'nobody' can read (a clone inside a 0700
    folder, e.g. one from mktemp -d, is not)."""
    if not IS_ROOT or shutil.which("setpriv") is None:
        return False
    probe = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable,
                            "-c", f"open({str(SCRIPTS / 'mnist.py')!r}).close()"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_drop_root(), reason="needs root, setpriv, and a checkout another user "
                    "can read, to run as another user")
@pytest.mark.parametrize("flag", ["--out", "--save"])
def test_no_permission_is_refused_before_training(flag):
    import tempfile
    base = Path(tempfile.mkdtemp(prefix="mxdl-permission-"))  # outside pytest's 0700 folders
    try:
        base.chmod(0o755)
        home = base / "home"
        home.mkdir(mode=0o777)  # nobody may run in it and use it as MXNET_HOME ...
        home.chmod(0o777)
        locked = base / "locked"
        locked.mkdir(mode=0o555)  # ... but not write here
        target = locked / ("run" if flag == "--out" else "logreg.params")
        proc = run_script("mnist.py", *TRAIN, "--dataset", "mnist-t10k", flag, target, home=home,
                          env={"HOME": str(home)},
                          prefix=("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"))
        assert_one_error(proc, str(locked), "Permission denied")
        assert "Epoch" not in proc.stdout and os.listdir(locked) == []
    finally:
        shutil.rmtree(base)


def _mount_tmpfs(path, options):
    if not IS_ROOT or shutil.which("mount") is None:
        pytest.skip("needs root to mount a tmpfs")
    path.mkdir(exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")


@pytest.fixture
def small_disk(tmp_path):
    """A 48 KiB tmpfs holding an earlier 31 KiB params file: the next one does not fit."""
    mnt = tmp_path / "disk"
    _mount_tmpfs(mnt, "size=48k")
    yield mnt
    subprocess.run(["umount", str(mnt)])


def test_a_full_disk_leaves_the_earlier_file_and_says_so(home, small_disk, good_params):
    earlier = small_disk / "logreg.params"
    shutil.copyfile(good_params, earlier)
    before = earlier.read_bytes()
    proc = run_script("mnist.py", *TRAIN, "--dataset", "mnist-t10k", "--seed", "2", "--save", earlier,
                      home=home)
    assert_one_error(proc, str(earlier), "No space left on device", "left as it was")
    assert earlier.read_bytes() == before and os.listdir(small_disk) == ["logreg.params"]


@pytest.fixture
def read_only_disk(tmp_path):
    mnt = tmp_path / "ro"
    _mount_tmpfs(mnt, "size=64k,ro")
    yield mnt
    subprocess.run(["umount", str(mnt)])


@pytest.mark.parametrize("flag", ["--out", "--save"])
def test_a_read_only_file_system_is_refused_before_training(home, read_only_disk, flag):
    target = read_only_disk / ("run" if flag == "--out" else "logreg.params")
    proc = run_script("mnist.py", *TRAIN, "--dataset", "mnist-t10k", flag, target, home=home)
    assert_one_error(proc, str(target), "Read-only file system")
    assert "Epoch" not in proc.stdout


@pytest.mark.parametrize("script", ["toy.py", "batch_sizes.py"])
def test_other_commands_check_out_before_training(home, script):
    blocker = _blocker(home)
    proc = run_script(script, "--out", blocker, home=home)
    assert_one_error(proc, str(blocker), "it is a file, not a folder")
    assert blocker.read_text() == "an earlier file"


# ------------------------------------------------- items 3 and 4: flags that ask for too much

FLAG_CASES = {
    # case: (script, flags, words of the error)
    "cpu index": ("mnist.py", ["--ctx", "cpu:99999999999999999999"], "cpu index must be from 0 to"),
    "toy points": ("toy.py", ["--n", "99999999999"], "n must be an integer from 1 to"),
    "seed 2**32": ("mnist.py", ["--seed", "4294967296"], "--seed: must be an integer from 0 to 4294967295"),
    "lr 1e39": ("mnist.py", ["--lr", "1e39"], "float32"),
    "lr 1e-320": ("mnist.py", ["--lr", "1e-320"], "float32"),
    "wd 1e39": ("mnist.py", ["--wd", "1e39"], "float32"),
    "momentum 1e-320": ("mnist.py", ["--momentum", "1e-320"], "float32"),
    "init uniform:1e308": ("mnist.py", ["--init", "uniform:1e308"], "float32"),
    "toy seed 2**32": ("toy.py", ["--seed", "4294967296"], "--seed: must be an integer from 0"),
    "toy lr 1e39": ("toy.py", ["--lr", "1e39"], "float32"),
    "toy lr 1e-320": ("toy.py", ["--lr", "1e-320"], "float32"),
    "study seed 2**32": ("batch_sizes.py", ["--seed", "4294967296"], "--seed: must be an integer from 0"),
    "study lr 1e-320": ("batch_sizes.py", ["--lr", "1e-320"], "float32"),
    "study lr grid 1e39": ("batch_sizes.py", ["--lr-grid", "0.1,1e39"], "float32"),
}


@pytest.mark.parametrize("case", sorted(FLAG_CASES))
def test_flags_out_of_range_are_one_line(home, case):
    script, flags, words = FLAG_CASES[case]
    extra = list(TRAIN) + ["--dataset", "mnist-t10k"] if script == "mnist.py" else []
    proc = run_script(script, *extra, *flags, "--out", home / "out", home=home)
    assert_one_error(proc, words)
    assert "Epoch" not in proc.stdout and not (home / "out").exists()


# ------------------------------------------------------------- item 6: a cost that explodes

@pytest.mark.parametrize("model, lr", [("mlp", "30"), ("logreg", "1e6")])
def test_a_finite_explosion_of_the_cost_is_divergence(home, model, lr):
    proc = run_script("mnist.py", *TRAIN, "--dataset", "mnist-t10k", "--model", model, "--lr", lr,
                      "--save", home / "net.params", home=home)
    assert_one_error(proc, "diverged", "times the cost", "training started from", "learning rate is too high")
    assert not (home / "net.params").exists()


def test_a_high_lr_that_still_learns_is_not_divergence(home):
    """logreg at lr 100: the first epoch's cost is ~70 times the start, yet it learns."""
    proc = run_script("mnist.py", "--quiet", "--epochs", "2", "--limit", "2000", "--dataset",
                      "mnist-t10k", "--lr", "100", home=home)
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.splitlines()[-1]
    assert float(re.search(r"Test_acc ([\d.]+)", last).group(1)) > 0.6


# -------------------------------------------- item 9: a bad mirror and a trickling one (local HTTP)

def _serve(handler, directory=None):
    """A bounded HTTP server on 127.0.0.1 in a thread: ``(url, stop)``; it stops itself after 120 s."""
    if directory is not None:
        handler = functools.partial(handler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    timer = threading.Timer(120, server.shutdown)
    timer.daemon = True
    timer.start()

    def stop():
        timer.cancel()
        server.shutdown()
        server.server_close()
    return f"http://127.0.0.1:{server.server_address[1]}/", stop


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _tiny_train_files_in_cache(home, n=300):
    """Valid IDX train files in MXNet's cache (found there without a checksum: we lack MNIST's)."""
    cache = home / "datasets" / "mnist"
    images, labels = synthetic_digits(n)
    write_idx(cache / "train-images-idx3-ubyte.gz", images)
    write_idx(cache / "train-labels-idx1-ubyte.gz", labels)
    return cache, sorted(os.listdir(cache))


def _mirror(root, extra_member):
    """``root/gluon/dataset/mnist/``: the real t10k files, the images with an extra gzip member."""
    directory = root / "gluon" / "dataset" / "mnist"
    directory.mkdir(parents=True)
    for name in IDX_FILES[2:]:
        shutil.copyfile(T10K / (name + ".gz"), directory / (name + ".gz"))
    if extra_member:
        with open(directory / "t10k-images-idx3-ubyte.gz", "ab") as f:
            f.write(gzip.compress(b"\0" * 784))  # one more 28x28 image, hidden in a second member
    return root


def test_download_with_an_extra_gzip_member_is_refused_and_not_cached(home, tmp_path):
    cache, train_files = _tiny_train_files_in_cache(home)
    url, stop = _serve(_Quiet, _mirror(tmp_path / "bad", extra_member=True))
    try:
        proc = run_script("mnist.py", *TRAIN, "--dataset", "mnist", home=home,
                          env={"MXNET_GLUON_REPO": url})
    finally:
        stop()
    assert_one_error(proc, "t10k-images-idx3-ubyte.gz", "not the expected file", "nothing was saved")
    assert sorted(os.listdir(cache)) == train_files  # no bad file, no .tmp

    # Offline (the mirror is gone): the run is not broken by a cached bad file; MNIST is not
    # found, the download fails, and the command falls back to the shipped mnist-t10k, saying so.
    proc = run_script("mnist.py", *TRAIN[1:], "--dataset", "mnist", home=home,
                      env={"MXNET_GLUON_REPO": url})
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "Using mnist-t10k instead" in proc.stdout + proc.stderr
    assert "gzip" not in proc.stdout + proc.stderr and "corrupt" not in proc.stdout + proc.stderr
    assert sorted(os.listdir(cache)) == train_files

    # A good mirror later: the download completes and the run uses the cache.
    url, stop = _serve(_Quiet, _mirror(tmp_path / "good", extra_member=False))
    try:
        proc = run_script("mnist.py", *TRAIN[1:], "--dataset", "mnist", home=home,
                          env={"MXNET_GLUON_REPO": url})
    finally:
        stop()
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "Using mnist-t10k" not in proc.stdout + proc.stderr
    assert sorted(os.listdir(cache)) == sorted(train_files + [n + ".gz" for n in IDX_FILES[2:]])


class _Trickle(http.server.BaseHTTPRequestHandler):
    """Sends the start of a .gz file one byte every 0.1 s (each read returns in time), at most 60 s."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        data = (T10K / "t10k-labels-idx1-ubyte.gz").read_bytes()[:600]
        try:
            for byte in data:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:  # the client gave up
            pass

    def log_message(self, *args):
        pass


def test_a_trickling_server_is_ended_by_the_whole_download_deadline(home):
    cache, train_files = _tiny_train_files_in_cache(home)
    url, stop = _serve(_Trickle)
    started = time.monotonic()
    try:
        proc = run_script("mnist.py", *TRAIN, "--dataset", "mnist", home=home, timeout=120,
                          env={"MXNET_GLUON_REPO": url, "MXDL_DOWNLOAD_DEADLINE": "1"})  # (600 s unless set)
    finally:
        stop()
    assert time.monotonic() - started < 50  # the 600 bytes would take 60 s: the deadline ended it
    # A download that cannot finish means MNIST cannot be had: the command falls back to the
    # shipped mnist-t10k (exit 0) and says why in one note naming the deadline.
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    out = proc.stdout + proc.stderr
    assert "took longer than 1 s" in out and "Using mnist-t10k instead" in out, out
    assert sorted(os.listdir(cache)) == train_files  # nothing half-downloaded left behind


@pytest.mark.parametrize("value", ["soon", "0", "-5", "inf", "nan"])
def test_a_bad_download_deadline_is_one_line_before_any_download(home, value):
    """MXDL_DOWNLOAD_DEADLINE (seconds for a whole file) must be a positive number; a bad one is a
    configuration error, not a failed download: no fallback to the shipped digits, no training."""
    proc = run_script("mnist.py", *TRAIN, "--dataset", "mnist", home=home,
                      env={"MXDL_DOWNLOAD_DEADLINE": value, "MXNET_GLUON_REPO": "http://127.0.0.1:9/"})
    assert_one_error(proc, "MXDL_DOWNLOAD_DEADLINE must be a positive number of seconds", repr(value))
    assert "Epoch" not in proc.stdout and "mnist-t10k" not in proc.stdout + proc.stderr
