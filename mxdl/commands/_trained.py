"""The flags and loading shared by the commands that use a trained net (mxdl-predict, mxdl-evaluate).

A trained net comes as params saved by mxdl-mnist (``--params FILE``: the model is ``--model``, or
else the one named by the ``config.json`` beside FILE, as ``--out`` writes them) or as an export
(``--symbol PREFIX``: ``PREFIX-symbol.json`` + ``PREFIX-0000.params``, no model needed).
"""
import os

from ..config import Config
from ..errors import MxdlError
from ..models import list_models


FALLBACK_MODEL = "logreg"  # for params with neither --model nor a config.json: the demo's model


def add_flags(parser):
    """``--params FILE | --symbol PREFIX`` and ``--model``."""
    group = parser.add_argument_group("the trained net (one of --params, --symbol)")
    which = group.add_mutually_exclusive_group(required=True)
    which.add_argument("--params", metavar="FILE", help="params saved by mxdl-mnist (--save FILE, or "
                       "<model>.params in its --out directory)")
    which.add_argument("--symbol", metavar="PREFIX", help="a net exported by mxdl-mnist --export "
                       "PREFIX: PREFIX-symbol.json + PREFIX-0000.params, loaded with "
                       "gluon.SymbolBlock.imports")
    group.add_argument("--model", choices=list_models(), default=None, help="the net the --params "
                       "belong to (default: the model in the config.json beside them, else logreg)")


def run_config(params):
    """The :class:`~mxdl.config.Config` of the run that saved ``params`` (its config.json), or None."""
    path = os.path.join(os.path.dirname(os.path.abspath(params)), "config.json")
    return Config.from_json(path) if os.path.isfile(path) else None


def model_for(args):
    """The model name for ``--params``: ``--model``, or the config.json beside the params."""
    if args.model:
        return args.model
    config = run_config(args.params)
    return config.model if config is not None else FALLBACK_MODEL


def default_dataset(args, fallback="mnist"):
    """The dataset the net was trained on, from the config.json beside ``--params`` (else ``fallback``)."""
    config = run_config(args.params) if args.params else None
    return config.dataset if config is not None else fallback


def load_net(args, ctxs):
    """The trained net the flags name, on devices ``ctxs``."""
    if args.symbol:
        if args.model:
            raise MxdlError("--model goes with --params: an exported --symbol net carries its own graph")
        from ..export import import_net
        return import_net(args.symbol, ctx=ctxs)
    from ..demos.mnist_demo import load_trained
    return load_trained(model_for(args), args.params, ctx=ctxs)
