"""Overfitting, underfitting and regularisation: train and test drifting apart, and ``wd`` pulling them back.

The slide "Training Accuracy, Test Accuracy" says training accuracy "is used in other factors -
Overfitting, Underfitting"; the "Next Steps" slide lists "Overfitting, Regularization".

* *Underfitting*: the model does badly even on the data it trains on (train accuracy low, train cost
  high) -- too few updates, or a model or penalty too constraining.
* *Overfitting*: the model keeps getting better on its training data while it stops getting better
  (or gets worse) on data it has not seen: train accuracy reaches 1.0, test accuracy stalls, and
  the test cost, after a minimum, rises again.
* *Regularisation* with weight decay ``wd``: each SGD update also shrinks every weight,
  ``w <- w - lr * (gradient + wd * w)``, the gradient of the penalty ``wd/2 * |w|^2`` added to the
  cost.  Large weights are what let a net memorise single samples, so this keeps train and test
  closer together.

:func:`train_vs_test` trains a model on a few hundred of the shipped digits and measures train and
test (cost, accuracy) after every epoch, on the whole training set (not the moving average of the
epoch line).
"""
import dataclasses

from mxnet import gluon

from .data import load_dataset
from .models import get_model
from .train import evaluate, fit
from .utils import seed_everything


@dataclasses.dataclass
class Curves:
    """Train and test cost and accuracy after every epoch of one run."""

    model: str
    wd: float
    num_train: int
    train_cost: list
    test_cost: list
    train_acc: list
    test_acc: list

    @property
    def acc_gap(self):
        """Train accuracy minus test accuracy after the last epoch."""
        return self.train_acc[-1] - self.test_acc[-1]

    @property
    def cost_gap(self):
        """Test cost minus train cost after the last epoch."""
        return self.test_cost[-1] - self.train_cost[-1]

    @property
    def best_test_epoch(self):
        """The epoch with the lowest test cost: after it, more training made the test cost worse."""
        return self.test_cost.index(min(self.test_cost)) + 1

    def __str__(self):
        return (f"{self.model} wd={self.wd:g} on {self.num_train} digits, {len(self.test_acc)} epochs: "
                f"train acc {self.train_acc[-1]:.3f} test acc {self.test_acc[-1]:.3f} "
                f"(gap {self.acc_gap:.3f}); train cost {self.train_cost[-1]:.3f} test cost "
                f"{self.test_cost[-1]:.3f} (lowest {min(self.test_cost):.3f} at epoch "
                f"{self.best_test_epoch})")


def train_vs_test(model="mlp", *, wd=0.0, num_train=300, num_epochs=60, lr=0.1, batch_size=32,
                  seed=0, dataset=None):
    """Train ``model`` on the first ``num_train`` shipped digits; return its :class:`Curves`.

    ``dataset`` is an already loaded :class:`mxdl.data.Dataset` (default: ``mnist-t10k``, 2000 test
    digits).  ``wd`` is the weight decay of the SGD trainer.
    """
    data = dataset or load_dataset("mnist-t10k", download=False, progress=False)
    X, y = data.train
    train = X[:num_train], y[:num_train]
    seed_everything(seed)
    net = get_model(model)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    curves = Curves(model, wd, len(train[1]), [], [], [], [])

    def measure(_stats):
        for (cost, acc), costs, accs in ((evaluate(net, *train, loss_fn=loss_fn), curves.train_cost,
                                          curves.train_acc),
                                         (evaluate(net, *data.test, loss_fn=loss_fn), curves.test_cost,
                                          curves.test_acc)):
            costs.append(cost)
            accs.append(acc)

    fit(net, loss_fn, train, None, num_epochs=num_epochs, batch_size=batch_size, lr=lr, wd=wd,
        seed=seed, on_epoch=measure)
    return curves
