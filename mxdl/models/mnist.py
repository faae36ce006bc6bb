"""The talk's three MNIST models: the demo's logistic regression and its two "next steps".

* ``logreg`` -- the demo itself: one ``Dense(10)`` layer, i.e. multiclass logistic regression
  (y_hat = softmax(X W + b), the softmax living in ``SoftmaxCrossEntropyLoss``);
* ``mlp`` -- 784-128-64-10 with ReLU, the net of MXNet's own Gluon MNIST example
  (``example/gluon/mnist/mnist.py``);
* ``lenet`` -- conv(20, 5)-pool-conv(50, 5)-pool-dense(500)-dense(10) with ``tanh``, the classic
  Gluon LeNet of MXNet's "Hand-written Digit Recognition" tutorial (``docs/tutorials/gluon/mnist.md``).

Every layer is told its input size, so parameter shapes (and :func:`mxdl.utils.num_params`) are known
before the first forward pass.  All are ``HybridBlock``s, so ``fit`` can compile them into one graph.
Inputs are ``X`` of shape (batch, 1, 28, 28); outputs are class scores of shape (batch, 10).
"""
from mxnet.gluon import nn

NUM_INPUTS = 28 * 28  # one grayscale 28x28 image, flattened by Dense
NUM_CLASSES = 10


def logreg(num_classes=NUM_CLASSES):
    """Multiclass logistic regression: the meetup demo's ``gluon.nn.Dense(10)`` (7,850 parameters)."""
    net = nn.HybridSequential(prefix="logreg_")
    with net.name_scope():
        # Dense flattens (batch, 1, 28, 28) to (batch, 784) itself.
        net.add(nn.Dense(num_classes, in_units=NUM_INPUTS))
    return net


def mlp(num_classes=NUM_CLASSES):
    """A multilayer perceptron 784-128-64-10 with ReLU (the talk's first "next step"; 109,386 parameters)."""
    net = nn.HybridSequential(prefix="mlp_")
    with net.name_scope():
        net.add(nn.Dense(128, activation="relu", in_units=NUM_INPUTS),
                nn.Dense(64, activation="relu", in_units=128),
                nn.Dense(num_classes, in_units=64))
    return net


def lenet(num_classes=NUM_CLASSES):
    """LeNet, a convolutional net (the talk's second "next step"; 431,080 parameters).

    Shapes: (b, 1, 28, 28) -conv5-> (b, 20, 24, 24) -pool-> (b, 20, 12, 12) -conv5-> (b, 50, 8, 8)
    -pool-> (b, 50, 4, 4) -flatten-> (b, 800) -> (b, 500) -> (b, 10).
    """
    net = nn.HybridSequential(prefix="lenet_")
    with net.name_scope():
        net.add(nn.Conv2D(20, kernel_size=5, activation="tanh", in_channels=1),
                nn.MaxPool2D(pool_size=2, strides=2),
                nn.Conv2D(50, kernel_size=5, activation="tanh", in_channels=20),
                nn.MaxPool2D(pool_size=2, strides=2),
                nn.Dense(500, activation="tanh", in_units=50 * 4 * 4),
                nn.Dense(num_classes, in_units=500))
    return net
