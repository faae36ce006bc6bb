"""Export a trained net as MXNet's symbol JSON + params and load it back with SymbolBlock.imports."""
import os

import numpy as np
import pytest
from mxnet import gluon

from conftest import synthetic_digits
from mxdl.errors import MxdlError
from mxdl.export import exported_paths, export_net, import_net
from mxdl.models import get_model
from mxdl.train import fit, predict


def _digits(n, seed):
    images, labels = synthetic_digits(n, seed=seed)
    return images[:, None].astype("float32") / 255, labels.astype("float32")


@pytest.mark.parametrize("model", ["logreg", "lenet"])
def test_exported_net_predicts_as_the_trained_net(tmp_path, model):
    train, test = _digits(300, 0), _digits(100, 1)
    net = get_model(model)
    history = fit(net, gluon.loss.SoftmaxCrossEntropyLoss(), train, test, num_epochs=2, batch_size=32,
                  lr=0.1, seed=0)
    assert history.last.test_acc > 0.5  # a trained net, not initial weights
    prefix = tmp_path / "out" / model
    symbol_file, params_file = export_net(net, prefix, input_shape=(1, 1, 28, 28))
    assert (symbol_file, params_file) == exported_paths(prefix)
    assert sorted(os.listdir(tmp_path / "out")) == sorted([f"{model}-symbol.json", f"{model}-0000.params"])
    imported = import_net(prefix)
    assert isinstance(imported, gluon.SymbolBlock)
    expected = predict(net, test[0])
    np.testing.assert_allclose(predict(imported, test[0]), expected, rtol=1e-5, atol=1e-5)
    assert (predict(imported, test[0]).argmax(axis=1) == expected.argmax(axis=1)).all()


def test_import_of_a_missing_or_mismatched_export_is_one_clear_error(tmp_path):
    with pytest.raises(MxdlError, match="does not exist"):
        import_net(tmp_path / "nothing")
    export_net(get_model("logreg"), tmp_path / "a", (1, 1, 28, 28))
    export_net(get_model("mlp"), tmp_path / "b", (1, 1, 28, 28))
    os.replace(tmp_path / "b-0000.params", tmp_path / "a-0000.params")
    with pytest.raises(MxdlError, match="same export"):
        import_net(tmp_path / "a")
