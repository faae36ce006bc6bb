"""Seeds, atomic files and parameter files."""
import os

import mxnet as mx
import numpy as np
import pytest
from mxnet import gluon

from mxdl import utils
from mxdl.errors import MxdlError


def test_seed_everything_repeats_all_generators():
    def draw():
        utils.seed_everything(7)
        import random
        return random.random(), np.random.rand(), mx.nd.random.uniform(shape=1).asscalar()

    assert draw() == draw()


def test_atomic_write_replaces_only_on_success(tmp_path):
    path = tmp_path / "out.txt"
    with utils.atomic_write(path, "w") as f:
        f.write("good")
    with pytest.raises(RuntimeError):
        with utils.atomic_write(path, "w") as f:
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
        with utils.atomic_write(tmp_path / "a.txt", "w") as f:
            f.write("x")
        utils.save_params(_net(), tmp_path / "p.params")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "p.params").stat().st_mode & 0o777 == 0o644
