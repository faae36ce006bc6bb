"""Devices: turn a flag such as ``cpu``, ``gpu:1``, ``auto`` or ``gpu:0,gpu:1`` into MXNet contexts.

The talk's code runs "on CPU or GPU" by changing one word; this module is that word.  It says what it
chose, and asking for a GPU that is not there is an error, never a silent fallback (unless the user
asked for ``auto``).  A flag is parsed once, at the boundary (a command or a demo's ``run``), with
:func:`parse_ctx`; library functions take the Contexts as given (:func:`devices`).
"""
import re

import mxnet as mx

from .config import DEFAULT_DEVICE
from .errors import ContextError

_GPU_HELP = ("install a CUDA build of MXNet instead of the CPU one, e.g. "
             "'pip uninstall -y mxnet && pip install mxnet-cu112==1.9.1' (CUDA 11.2; GPUs up to compute "
             "capability 8.6), or run with --ctx cpu")
_ONE = re.compile(r"^(cpu|gpu)(?::(\d+))?$")
# cpu:N is only a label (several of them simulate data-parallel devices), but MXNet sizes per-device
# state by the largest index used (~16 bytes an index, measured): cpu:2147483647 hangs allocating it.
MAX_CPU_INDEX = 1023


def num_gpus():
    """The number of GPUs this MXNet build can see (0 for a CPU-only build)."""
    try:
        return mx.context.num_gpus()
    except mx.base.MXNetError:  # a CUDA build on a machine without a driver
        return 0


def _one(token, n_gpus):
    match = _ONE.match(token)
    if match is None:
        raise ContextError(f"unknown device {token!r}: use cpu, gpu, gpu:N, auto, or a comma list "
                           "such as gpu:0,gpu:1")
    kind, index = match.group(1), int(match.group(2) or 0)
    if kind == "cpu":
        if index > MAX_CPU_INDEX:
            raise ContextError(f"{token}: a cpu index must be from 0 to {MAX_CPU_INDEX} (MXNet keeps "
                               "state for every index up to the largest one used)")
        return mx.cpu(index)
    if n_gpus == 0:
        raise ContextError(f"{token} was asked for but this MXNet build ({mx.__version__}) sees no GPU: "
                           + _GPU_HELP)
    if index >= n_gpus:
        raise ContextError(f"{token} was asked for but only {n_gpus} GPU(s) were found "
                           f"(gpu:0..gpu:{n_gpus - 1})")
    return mx.gpu(index)


def parse_ctx(spec=DEFAULT_DEVICE):
    """Parse a device spec into a non-empty list of :class:`mx.Context`.

    ``'cpu'``, ``'cpu:1'``, ``'gpu'`` (= ``gpu:0``), ``'gpu:N'``, ``'auto'`` (every GPU if there are
    any, else the CPU), comma lists (``'gpu:0,gpu:1'``; ``'gpu:0,1'`` is short for the same), a
    Context, or a list of any of these.  Several contexts mean data-parallel training.
    """
    if spec is None:
        spec = DEFAULT_DEVICE
    if isinstance(spec, mx.Context):
        return [spec]
    if isinstance(spec, (list, tuple)):
        ctxs = [c for item in spec for c in parse_ctx(item)]
    else:
        text = str(spec).strip().lower().replace(" ", "")
        if not text:
            raise ContextError("empty device: use cpu, gpu, gpu:N, auto, or a comma list")
        n_gpus = num_gpus()
        if text == "auto":
            return [mx.gpu(i) for i in range(n_gpus)] if n_gpus else [mx.cpu()]
        ctxs, kind = [], None
        for token in text.split(","):
            if token.isdigit() and kind is not None:  # 'gpu:0,1' -> gpu:0, gpu:1
                token = f"{kind}:{token}"
            ctx = _one(token, n_gpus)
            kind = ctx.device_type
            ctxs.append(ctx)
    if not ctxs:
        raise ContextError("no device given: use cpu, gpu, gpu:N, auto, or a comma list")
    if len(set(ctxs)) != len(ctxs):
        raise ContextError(f"device listed twice in {spec!r}: list each device once")
    return ctxs


def devices(net=None, ctx=None):
    """The Contexts a library function runs on: ``ctx`` as given (a Context or a list of them), or
    else where ``net``'s parameters are."""
    if ctx is None:
        return net.collect_params().list_ctx()
    if isinstance(ctx, mx.Context):
        return [ctx]
    if not (isinstance(ctx, (list, tuple)) and ctx and all(isinstance(c, mx.Context) for c in ctx)):
        raise ContextError(f"ctx must be a Context or a list of Contexts, got {ctx!r}: parse a device "
                           "flag once with mxdl.context.parse_ctx")
    return list(ctx)


def describe_ctx(ctxs):
    """One line saying which devices were chosen, e.g. ``'cpu(0)'`` or ``'gpu(0), gpu(1) (data parallel)'``."""
    ctxs = devices(ctx=ctxs)
    text = ", ".join(str(c) for c in ctxs)
    return text + (" (data parallel)" if len(ctxs) > 1 else "")
