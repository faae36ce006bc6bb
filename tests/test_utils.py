"""Seeds, atomic files and parameter files."""
import os

import mxnet as mx
import numpy as np
import pytest
from mxnet import gluon

from mxdl import files, utils
from mxdl.errors import MxdlError


def test_seed_everything_repeats_all_generators():
    def draw():
        utils.seed_everything(7)
        import random
        return random.random(), np.random.rand(), mx.nd.random.uniform(shape=1).asscalar()

    assert draw() == draw()


def test_atomic_write_replaces_only_on_success(tmp_path):
    path = tmp_path / "out.txt"
    with files.atomic_write(path, "w") as f:
        f.write("good")
    with pytest.raises(RuntimeError):
        with files.atomic_write(path, "w") as f:
            f.write("half")
            raise RuntimeError("interrupted")
    assert path.read_text() == "good"
    assert os.listdir(tmp_path) == ["out.txt"]  # no temporary file left behind


def _net(units=3, in_units=4):
    net = gluon.nn.Dense(units, in_units=in_units)
    net.initialize(mx.init.Normal(1.0))
    return net


def test_params_round_trip(tmp_path):
    net, other = _net(), _net()
    utils.save_params(net, tmp_path / "p.params")
    utils.load_params(other, tmp_path / "p.params")
    np.testing.assert_array_equal(net.weight.data().asnumpy(), other.weight.data().asnumpy())


def test_interrupted_save_keeps_the_last_good_file(tmp_path, monkeypatch):
    path = tmp_path / "p.params"
    net = _net()
    utils.save_params(net, path)
    good = path.read_bytes()

    def broken_save(self, filename, *args, **kwargs):
        with open(filename, "wb") as f:
            f.write(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(gluon.nn.Dense, "save_parameters", broken_save)
    with pytest.raises(KeyboardInterrupt):
        utils.save_params(_net(), path)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["p.params"]


@pytest.mark.parametrize("content", [b"", b"not a params file", None])
def test_bad_params_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "p.params"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(MxdlError, match="p.params"):
        utils.load_params(_net(), path)


def test_mismatched_params_are_a_clear_error(tmp_path):
    utils.save_params(_net(units=3), tmp_path / "p.params")
    with pytest.raises(MxdlError, match="does not fit"):
        utils.load_params(_net(units=5), tmp_path / "p.params")


def test_num_params():
    assert utils.num_params(_net(units=10, in_units=784)) == 7850
    deferred = gluon.nn.Dense(10)
    deferred.initialize()
    with pytest.raises(MxdlError, match="forward"):
        utils.num_params(deferred)


def test_atomic_files_get_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        with files.atomic_write(tmp_path / "a.txt", "w") as f:
            f.write("x")
        utils.save_params(_net(), tmp_path / "p.params")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "p.params").stat().st_mode & 0o777 == 0o644


def test_atomic_write_writes_through_symlinks_and_keeps_the_mode(tmp_path):
    target, link = tmp_path / "target.txt", tmp_path / "link.txt"
    target.write_text("old")
    target.chmod(0o600)
    link.symlink_to(target)
    with files.atomic_write(link, "w") as f:
        f.write("new")
    assert link.is_symlink() and target.read_text() == "new"
    assert (target.stat().st_mode & 0o777) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["link.txt", "target.txt"]


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_atomic_write_refuses_special_files(tmp_path, kind):
    path = tmp_path / kind
    os.mkfifo(path) if kind == "fifo" else path.mkdir()
    with pytest.raises(MxdlError, match=f"cannot write {path}: it is a"):
        with files.atomic_write(path, "w") as f:
            f.write("new")
    assert (path.is_fifo() if kind == "fifo" else path.is_dir())
    assert os.listdir(tmp_path) == [kind]


def test_file_system_errors_are_one_line_naming_the_path(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(MxdlError, match=f"cannot write {blocker}/out.txt: "):
        with files.atomic_write(blocker / "out.txt", "w") as f:
            f.write("new")
    with pytest.raises(MxdlError, match="File name too long"):
        with files.atomic_write(tmp_path / ("x" * 300), "w") as f:
            f.write("new")


def test_stale_temporary_files_of_dead_writers_are_removed(tmp_path):
    import subprocess
    import sys
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stale = tmp_path / f".out.txt.{files._HOST}-{dead}.abc.tmp"
    live = tmp_path / f".out.txt.{files._HOST}-{os.getpid()}.abc.tmp"  # a writer still running
    old = tmp_path / ".out.txt.otherhost-1.abc.tmp"  # another host's, untouched for two days
    for path in (stale, live, old):
        path.write_text("half")
    os.utime(old, (0, 0))
    with files.atomic_write(tmp_path / "out.txt", "w") as f:
        f.write("new")
    assert sorted(os.listdir(tmp_path)) == sorted([live.name, "out.txt"])


def test_non_finite_params_are_a_bad_file(tmp_path):
    net = _net()
    net.weight.data()[0, 0] = float("nan")
    utils.save_params(net, tmp_path / "p.params")
    with pytest.raises(MxdlError, match="p.params is bad: .*1 NaN or infinite"):
        utils.load_params(_net(), tmp_path / "p.params")
