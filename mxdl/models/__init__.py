"""Models by name: ``get_model('logreg')``, ``get_model('mlp')``, ``get_model('lenet')``.

One registry for the scripts and the notebooks.  Each model has a default initialiser: the demo's
``Normal(sigma=1)`` is one ``init='normal:1'`` away, but it is not logreg's default because it costs
accuracy (on real digits, 0.74-0.79 test accuracy after 4 epochs instead of 0.92 with ``normal:0.01``).

The names, descriptions and initialiser specs need no MXNet (a command line checks its flags before
MXNet is imported); building a model does.
"""
from ..errors import MxdlError

# name -> (builder in mxdl.models.mnist, default init spec, one-line description)
_MODELS = {
    "logreg": ("logreg", "normal:0.01", "multiclass logistic regression, Dense(10): the meetup demo"),
    "mlp": ("mlp", "xavier", "multilayer perceptron 784-128-64-10, ReLU"),
    "lenet": ("lenet", "xavier", "LeNet: conv(20,5)-pool-conv(50,5)-pool-dense(500)-dense(10), tanh"),
}


def list_models():
    """The registered model names, e.g. ``['logreg', 'mlp', 'lenet']``."""
    return list(_MODELS)


def describe_model(name):
    """One line saying what model ``name`` is."""
    return _entry(name)[2]


def default_init(name):
    """The initialiser spec model ``name`` uses unless told otherwise (e.g. ``'normal:0.01'``)."""
    return _entry(name)[1]


def _entry(name):
    if name not in _MODELS:
        raise MxdlError(f"unknown model {name!r}: choose one of {', '.join(_MODELS)}")
    return _MODELS[name]


_INIT_FORMS = ("normal:SIGMA, uniform:SCALE, xavier or xavier:MAGNITUDE "
               "(e.g. normal:0.01, normal:1, uniform:0.07)")


def parse_init(spec):
    """Turn an initialiser spec such as ``'normal:0.01'`` into an ``mx.init.Initializer``.

    ``normal:SIGMA`` draws weights from N(0, SIGMA^2) (the demo used ``normal:1``), ``uniform:SCALE``
    from U(-SCALE, SCALE), ``xavier[:MAGNITUDE]`` scales them by each layer's fan-in and fan-out.
    """
    kind, value = check_init(spec)
    import mxnet as mx  # pylint: disable=import-outside-toplevel

    if kind == "normal":
        return mx.init.Normal(sigma=value)
    if kind == "uniform":
        return mx.init.Uniform(scale=value)
    return mx.init.Xavier() if value is None else mx.init.Xavier(magnitude=value)


def check_init(spec):
    """``(kind, number)`` of an initialiser spec, or an :class:`~mxdl.errors.MxdlError` saying what is wrong."""
    text = str(spec).strip().lower()
    kind, _, arg = text.partition(":")
    if kind == "xavier" and not arg:
        return kind, None
    if kind not in ("normal", "uniform", "xavier") or not arg:
        raise MxdlError(f"unknown initialiser {spec!r}: use {_INIT_FORMS}")
    try:
        value = float(arg)
    except ValueError:
        raise MxdlError(f"initialiser {spec!r} needs a number after the colon: use {_INIT_FORMS}") from None
    if not 0 < value < float("inf"):
        raise MxdlError(f"initialiser {spec!r} needs a finite number > 0 after the colon")
    if not 1.1754944e-38 <= value <= 3.4028235e+38:  # float32's normal range: MXNet draws in float32
        raise MxdlError(f"initialiser {spec!r} needs a number from 1.2e-38 to 3.4e+38 after the colon "
                        "(MXNet computes in float32)")
    return kind, value


def get_model(name, *, init=None, ctx=None, **kwargs):
    """Build model ``name`` and initialise its parameters on ``ctx`` (default: the default device).

    ``init`` is a spec such as ``'normal:0.01'``, ``'normal:1'``, ``'xavier'``, ``'uniform:0.07'``, an
    ``mx.init.Initializer``, or None for the model's default.  Biases start at zero whatever ``init``
    says (Gluon's per-parameter default).  Other keyword arguments go to the builder
    (e.g. ``num_classes``).
    """
    import mxnet as mx  # pylint: disable=import-outside-toplevel

    from ..context import parse_ctx
    from . import mnist

    net = getattr(mnist, _entry(name)[0])(**kwargs)
    initializer = init if isinstance(init, mx.init.Initializer) else parse_init(init or default_init(name))
    net.initialize(initializer, ctx=ctx if ctx is not None else parse_ctx())
    return net
