"""The meetup notebook's Gluon pipeline, written faithfully, as the slow baseline of the benchmark.

The 2017 demo (like the Gluon tutorials of its time) trained like this:

* the data set is a ``gluon.data.vision.MNIST``-style dataset (uint8 images of shape (28, 28, 1) in an
  NDArray) with a per-sample Python ``transform`` (``astype(float32) / 255``: two tiny MXNet
  operations per image, three for the conv net, which also transposes to channels-first) and
  batched by a ``gluon.data.DataLoader`` (``shuffle=True``, no worker processes);
* the net runs imperatively (never hybridized); the dense nets get each batch reshaped to (-1, 784);
* each batch: ``record()``, ``net(data)``, the loss, ``loss.backward()``, ``trainer.step(batch_size)``
  and ``cumulative_loss += nd.sum(loss).asscalar()`` -- a host sync after every batch;
* accuracy with ``mx.metric.Accuracy`` over a DataLoader of the test set.

Only the data source differs: Gluon's ``FashionMNIST`` class would download files whose checksums it
knows, so :class:`ArrayMNIST` is that class with ``_get_data`` taking arrays that are already loaded.
The models and their initialisation are mxdl's (``get_model``), so that only the pipeline differs.
"""
import os
import time

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon, nd


class ArrayMNIST(gluon.data.vision.MNIST):
    """``gluon.data.vision.MNIST`` over images and labels already in memory.

    ``images``: uint8 (N, 28, 28, 1), as Gluon's MNIST stores them; ``labels``: int32 (N,).
    """

    def __init__(self, images, labels, transform=None):
        self._arrays = images, labels
        # root is never read: _get_data takes the arrays instead of files.
        gluon.data.dataset._DownloadedDataset.__init__(self, root=os.path.dirname(os.path.abspath(__file__)),
                                                       transform=transform)

    def _get_data(self):
        images, labels = self._arrays
        self._data = nd.array(images, dtype=images.dtype)  # exactly what MNIST._get_data keeps
        self._label = labels


def transform(data, label):
    """The notebook's per-sample transform for the dense nets: pixels to float in [0, 1]."""
    return data.astype(np.float32) / 255, label.astype(np.float32)


def transform_conv(data, label):
    """The per-sample transform of the conv-net tutorials: also (28, 28, 1) -> (1, 28, 28)."""
    return nd.transpose(data.astype(np.float32), (2, 0, 1)) / 255, label.astype(np.float32)


def to_gluon_images(X):
    """mxdl's X (float32 (N, 1, 28, 28) in [0, 1]) back to Gluon's uint8 (N, 28, 28, 1) images."""
    return np.rint(np.asarray(X) * 255).astype(np.uint8).transpose(0, 2, 3, 1).copy()


def loaders(train, test, batch_size, conv):
    """The notebook's ``train_data`` and ``test_data`` DataLoaders."""
    fn = transform_conv if conv else transform
    train_set = ArrayMNIST(to_gluon_images(train[0]), np.asarray(train[1], dtype=np.int32), fn)
    test_set = ArrayMNIST(to_gluon_images(test[0]), np.asarray(test[1], dtype=np.int32), fn)
    return (gluon.data.DataLoader(train_set, batch_size, shuffle=True),
            gluon.data.DataLoader(test_set, batch_size, shuffle=False))


def evaluate_accuracy(data_iterator, net, ctx, flatten):
    """The notebook's evaluation loop."""
    acc = mx.metric.Accuracy()
    for data, label in data_iterator:
        data = data.as_in_context(ctx)
        if flatten:
            data = data.reshape((-1, 784))
        label = label.as_in_context(ctx)
        output = net(data)
        predictions = nd.argmax(output, axis=1)
        acc.update(preds=predictions, labels=label)
    return acc.get()[1]


def train(net, train_data, num_epochs, batch_size, lr, ctx, flatten, on_epoch=None):
    """The notebook's training loop; returns the seconds of each epoch (training pass only)."""
    softmax_cross_entropy = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr})
    seconds = []
    for epoch in range(num_epochs):
        start = time.time()
        cumulative_loss = 0
        for data, label in train_data:
            data = data.as_in_context(ctx)
            if flatten:
                data = data.reshape((-1, 784))
            label = label.as_in_context(ctx)
            with autograd.record():
                output = net(data)
                loss = softmax_cross_entropy(output, label)
            loss.backward()
            trainer.step(batch_size)  # the notebook's nominal batch size, also for the short last one
            cumulative_loss += nd.sum(loss).asscalar()
        seconds.append(time.time() - start)
        if on_epoch is not None:
            on_epoch(epoch, cumulative_loss)
    return seconds
