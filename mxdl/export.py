"""Hand a trained net to someone without mxdl: MXNet's own exported format, symbol JSON + params.

``HybridBlock.export(prefix)`` writes the net's graph as ``PREFIX-symbol.json`` and its weights as
``PREFIX-0000.params``; ``gluon.SymbolBlock.imports`` (or any MXNet binding: C++, Scala, the
Module API) loads them back with no Python class of the model needed::

    paths = export_net(net, "runs/mnist/logreg", input_shape=(1, 1, 28, 28))
    net2 = import_net("runs/mnist/logreg")        # a SymbolBlock: same predictions as net
"""
import contextlib
import os
import shutil
import tempfile

import mxnet as mx
from mxnet import gluon, nd

from .errors import MxdlError, mxnet_reason
from .files import _default_mode


def exported_paths(prefix, epoch=0):
    """``(symbol file, params file)`` that :func:`export_net` writes for ``prefix``."""
    prefix = os.fspath(prefix)
    return f"{prefix}-symbol.json", f"{prefix}-{epoch:04d}.params"


def export_net(net, prefix, input_shape, epoch=0):
    """Export ``net`` (a HybridBlock) as ``PREFIX-symbol.json`` + ``PREFIX-0000.params``; return the paths.

    The net is hybridized and run once on zeros of ``input_shape`` (e.g. ``(1, 1, 28, 28)``) so that
    its graph exists; both files are written beside each other under temporary names and renamed
    into place, so an interrupted export never leaves half a file.
    """
    if not isinstance(net, gluon.HybridBlock):
        raise MxdlError(f"only a HybridBlock can be exported as symbol + params, not {type(net).__name__}")
    prefix = os.fspath(prefix)
    directory = os.path.dirname(os.path.abspath(prefix))
    os.makedirs(directory, exist_ok=True)
    ctx = net.collect_params().list_ctx()[0]
    net.hybridize()
    net(nd.zeros(input_shape, ctx=ctx))  # builds the cached graph that export writes
    tmp_dir = tempfile.mkdtemp(prefix=".export.", dir=directory)
    try:
        tmp_prefix = os.path.join(tmp_dir, "net")
        net.export(tmp_prefix, epoch=epoch)
        paths = exported_paths(prefix, epoch)
        for tmp, final in zip(exported_paths(tmp_prefix, epoch), paths):
            os.chmod(tmp, _default_mode())
            os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return paths


def import_net(prefix, ctx=None, epoch=0):
    """Load a net exported by :func:`export_net` (or any ``HybridBlock.export``) as a ``SymbolBlock``."""
    symbol_file, params_file = exported_paths(prefix, epoch)
    for path in (symbol_file, params_file):
        if not os.path.isfile(path):
            raise MxdlError(f"exported model file {path} does not exist: give the PREFIX that "
                            "--export wrote (PREFIX-symbol.json and PREFIX-0000.params)")
    ctx = ctx if ctx is not None else mx.cpu()
    try:
        with _quiet_warnings():
            return gluon.SymbolBlock.imports(symbol_file, ["data"], params_file, ctx=ctx)
    except (mx.base.MXNetError, AssertionError, ValueError, KeyError) as err:
        raise MxdlError(f"cannot load the exported model {prefix} ({mxnet_reason(err)}): are "
                        f"{symbol_file} and {params_file} from the same export?") from None


@contextlib.contextmanager
def _quiet_warnings():
    import warnings  # SymbolBlock warns about the input name 'data' being a plain variable
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
