"""Device specs: what the user types becomes MXNet contexts, and missing GPUs are clear errors."""
import mxnet as mx
import pytest

from mxdl import context
from mxdl.errors import ContextError


@pytest.mark.parametrize("spec, expected", [
    ("cpu", [mx.cpu(0)]),
    ("CPU:1", [mx.cpu(1)]),
    ("cpu:0,cpu:1", [mx.cpu(0), mx.cpu(1)]),
    ("cpu:0,1", [mx.cpu(0), mx.cpu(1)]),
    (mx.cpu(2), [mx.cpu(2)]),
    (["cpu:0", mx.cpu(1)], [mx.cpu(0), mx.cpu(1)]),
    (None, [mx.cpu(0)]),
])
def test_parse_cpu_specs(spec, expected):
    assert context.parse_ctx(spec) == expected


@pytest.mark.parametrize("spec", ["tpu", "gpu:x", "cpu:-1", "", ",", "cpu,,cpu:1", "cpu:0,cpu:0"])
def test_malformed_specs_are_clear_errors(spec):
    with pytest.raises(ContextError) as err:
        context.parse_ctx(spec)
    assert "cpu" in str(err.value)


def test_auto_without_gpu_is_cpu(monkeypatch):
    monkeypatch.setattr(context, "num_gpus", lambda: 0)
    assert context.parse_ctx("auto") == [mx.cpu()]


def test_auto_with_gpus_takes_them_all(monkeypatch):
    monkeypatch.setattr(context, "num_gpus", lambda: 2)
    assert context.parse_ctx("auto") == [mx.gpu(0), mx.gpu(1)]


def test_absent_gpu_says_what_was_found_and_how_to_get_one(monkeypatch):
    monkeypatch.setattr(context, "num_gpus", lambda: 0)
    with pytest.raises(ContextError) as err:
        context.parse_ctx("gpu")
    assert "no GPU" in str(err.value) and "mxnet-cu" in str(err.value)


def test_gpu_index_beyond_those_found(monkeypatch):
    monkeypatch.setattr(context, "num_gpus", lambda: 2)
    assert context.parse_ctx("gpu:0,gpu:1") == [mx.gpu(0), mx.gpu(1)]
    with pytest.raises(ContextError, match="only 2 GPU"):
        context.parse_ctx("gpu:2")


def test_this_machine_really_reports_its_gpus():
    # The real detection call, not a stub: on a CPU-only build it must say 0 and gpu must fail.
    if context.num_gpus() == 0:
        with pytest.raises(ContextError):
            context.parse_ctx("gpu")
    else:
        assert context.parse_ctx("gpu") == [mx.gpu(0)]


def test_describe_says_data_parallel():
    assert context.describe_ctx(context.parse_ctx("cpu")) == "cpu(0)"
    assert context.describe_ctx(context.parse_ctx("cpu:0,cpu:1")) == "cpu(0), cpu(1) (data parallel)"
