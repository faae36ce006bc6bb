"""The same three nets and the same training in PyTorch (CPU), as the benchmark's reference point.

Written the careful way, like mxdl's loop, so that the comparison is between frameworks and not
between pipelines: the whole data set is one tensor in memory, each epoch draws one permutation and
gathers each batch with it, ``CrossEntropyLoss`` (the mean over the batch, which with plain SGD at the
same ``lr`` is the same update as Gluon's summed loss with ``trainer.step(batch_size)``), ``SGD`` at lr
0.1, and the loss is only read at the end of the epoch (no per-batch host sync).  Initialisation is
PyTorch's own default, so accuracies agree only within seed noise.

torch is optional: ``pip install -e .[bench]`` (a CPU build); nothing else in mxdl needs it.
"""
import time

import numpy as np
import torch
from torch import nn


def build(name):
    """``logreg``, ``mlp`` or ``lenet`` with the layer sizes and activations of mxdl's models."""
    if name == "logreg":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                             nn.Linear(64, 10))
    if name == "lenet":
        return nn.Sequential(nn.Conv2d(1, 20, 5), nn.Tanh(), nn.MaxPool2d(2, 2),
                             nn.Conv2d(20, 50, 5), nn.Tanh(), nn.MaxPool2d(2, 2), nn.Flatten(),
                             nn.Linear(800, 500), nn.Tanh(), nn.Linear(500, 10))
    raise ValueError(f"no torch model {name!r}")


def train(net, X, y, *, num_epochs, batch_size, lr, seed, on_epoch=None, lean=False):
    """Mini-batch SGD over (X, y); returns the seconds of each epoch (``on_epoch()`` after each, untimed).

    ``lean``: PyTorch's leanest loop instead, its fastest at batch 1 -- the samples in stored order
    as slices (no shuffle, no gather), no loss kept, ``SGD(foreach=False)`` (one kernel per parameter
    beats the multi-tensor path on a few tensors).  It does less than mxdl's epoch (which shuffles
    and counts the loss and right answers), so mxdl against it is the strictest comparison.
    """
    generator = torch.Generator().manual_seed(seed)
    X, y = torch.from_numpy(np.asarray(X, dtype=np.float32)), torch.from_numpy(np.asarray(y)).long()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, foreach=False if lean else None)
    net.train()
    seconds = []
    for _ in range(num_epochs):
        start = time.time()
        if lean:
            for i in range(0, len(X), batch_size):
                optimizer.zero_grad(set_to_none=True)
                loss_fn(net(X[i:i + batch_size]), y[i:i + batch_size]).backward()
                optimizer.step()
        else:
            order = torch.randperm(len(X), generator=generator)
            loss_sum = torch.zeros(())
            for i in range(0, len(X), batch_size):
                batch = order[i:i + batch_size]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(net(X[batch]), y[batch])
                loss.backward()
                optimizer.step()
                loss_sum += loss.detach() * len(batch)
            float(loss_sum)  # the epoch's cost, read once
        seconds.append(time.time() - start)
        if on_epoch is not None:
            on_epoch()
            net.train()
    return seconds


@torch.no_grad()
def accuracy(net, X, y, batch_size=1024):
    """Test accuracy of ``net`` on (X, y)."""
    net.eval()
    X, y = torch.from_numpy(np.asarray(X, dtype=np.float32)), torch.from_numpy(np.asarray(y)).long()
    correct = 0
    for i in range(0, len(X), batch_size):
        correct += int((net(X[i:i + batch_size]).argmax(dim=1) == y[i:i + batch_size]).sum())
    return correct / len(X)
