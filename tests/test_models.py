"""The model registry: shapes, parameter counts, initialisers (the demo's Normal(1) and our defaults)."""
import mxnet as mx
import numpy as np
import pytest
from mxnet import gluon, nd

from mxdl.errors import MxdlError
from mxdl.models import default_init, get_model, list_models, parse_init
from mxdl.utils import num_params

# logreg: 784*10 + 10; mlp: (784*128 + 128) + (128*64 + 64) + (64*10 + 10);
# lenet: conv (1*25*20 + 20) + conv (20*25*50 + 50) + dense (800*500 + 500) + dense (500*10 + 10).
PARAM_COUNTS = {"logreg": 7850, "mlp": 109386, "lenet": 520 + 25050 + 400500 + 5010}


def test_registry_lists_the_three_models():
    assert list_models() == ["logreg", "mlp", "lenet"]
    with pytest.raises(MxdlError, match="unknown model 'resnet'.*logreg, mlp, lenet"):
        get_model("resnet")


@pytest.mark.parametrize("name", list(PARAM_COUNTS))
def test_parameter_count_is_known_before_any_forward_pass(name):
    net = get_model(name)
    assert isinstance(net, gluon.HybridBlock)
    assert num_params(net) == PARAM_COUNTS[name]


@pytest.mark.parametrize("name", list(PARAM_COUNTS))
@pytest.mark.parametrize("hybridize", [False, True])
def test_output_is_one_score_per_class(name, hybridize):
    net = get_model(name, init="xavier")
    if hybridize:
        net.hybridize()
    X = nd.random.uniform(shape=(5, 1, 28, 28))
    y_hat = net(X)
    assert y_hat.shape == (5, 10)
    assert np.isfinite(y_hat.asnumpy()).all()


def test_lenet_is_the_classic_gluon_lenet():
    convs = [block for block in get_model("lenet")._children.values()
             if isinstance(block, gluon.nn.Conv2D)]
    assert [conv.weight.shape for conv in convs] == [(20, 1, 5, 5), (50, 20, 5, 5)]
    assert "tanh" in repr(get_model("lenet"))


def weights_std(net):
    weights = [p.data().asnumpy() for name, p in net.collect_params().items() if name.endswith("weight")]
    return float(np.concatenate([w.ravel() for w in weights]).std())


def test_logreg_default_init_is_small_and_the_demo_init_is_one_argument_away():
    mx.random.seed(0)
    assert default_init("logreg") == "normal:0.01"
    assert weights_std(get_model("logreg")) == pytest.approx(0.01, rel=0.05)
    assert weights_std(get_model("logreg", init="normal:1")) == pytest.approx(1.0, rel=0.05)
    assert weights_std(get_model("logreg", init="uniform:0.07")) == pytest.approx(0.07 / 3 ** 0.5, rel=0.05)
    # Biases start at zero whatever the weights' initialiser (Gluon's per-parameter default).
    bias = get_model("logreg", init="normal:1").collect_params()
    assert all(not p.data().asnumpy().any() for name, p in bias.items() if name.endswith("bias"))


@pytest.mark.parametrize("spec, kind", [("normal:0.01", mx.init.Normal), ("NORMAL:1", mx.init.Normal),
                                        ("uniform:0.07", mx.init.Uniform), ("xavier", mx.init.Xavier),
                                        ("xavier:2.24", mx.init.Xavier)])
def test_init_specs(spec, kind):
    assert isinstance(parse_init(spec), kind)


@pytest.mark.parametrize("spec", ["gaussian:1", "normal", "normal:", "normal:x", "normal:0", "normal:-1",
                                  "uniform:inf", "normal:nan", ""])
def test_bad_init_specs_say_what_works(spec):
    with pytest.raises(MxdlError, match="normal|number"):
        parse_init(spec)
