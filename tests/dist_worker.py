"""A tiny data-parallel training program: what each worker of tests/test_launch.py runs.

Mini-batch SGD split over workers: worker ``r`` of ``M`` trains the same logistic-regression net
(``Dense(2)``, circles vs diamonds) on its shard ``X[r::M]`` of a seeded dataset, and every step sums
the ``M`` shard gradients on the parameter server (``mx.kv.create('dist_sync')``), so the run equals
one process taking steps of ``M * BATCH_SIZE`` samples.  Run it through the launcher::

    python -m mxdl.distributed.launch --workers 2 --servers 1 -- python tests/dist_worker.py OUT_DIR --num-workers 2

Each worker writes ``OUT_DIR/worker-<rank>.json``: its rank, the pushed-and-pulled check value, its
accuracy on the whole dataset and its final parameters.
"""
import argparse
import json
import os
import sys

import numpy as np

from mxdl.distributed.launch import fail_fast
from mxdl.files import atomic_write

import mxnet as mx  # noqa: E402  (after mxdl, which sets MXNet's environment defaults)
from mxnet import autograd, gluon

SEED = 0
NUM_SAMPLES = 256   # the whole dataset; worker r of M trains on X[r::M]
BATCH_SIZE = 16     # per worker: one step uses BATCH_SIZE * M samples
LR = 0.5
CHECK_KEY = 1000    # a kvstore key far from the Trainer's keys (0, 1, ... one per parameter)


def make_data(seed=SEED, n=NUM_SAMPLES):
    """Circles (y = 0) around (-1, -1) and diamonds (y = 1) around (1, 1): X (n, 2), y (n,)."""
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 2, size=n)
    X = rng.normal(scale=0.8, size=(n, 2)) + np.where(y[:, None] == 1, 1.0, -1.0)
    return X.astype(np.float32), y.astype(np.float32)


def shard(X, y, rank, num_workers):
    """Worker ``rank``'s share of the data: every ``num_workers``-th sample."""
    return X[rank::num_workers], y[rank::num_workers]


def batches(X, y, batch_size=BATCH_SIZE):
    """Consecutive mini-batches, in order (the shards are equal, so every worker takes as many steps)."""
    for start in range(0, len(X), batch_size):
        yield X[start:start + batch_size], y[start:start + batch_size]


def global_batches(X, y, num_workers, batch_size=BATCH_SIZE):
    """The batches one process would need to take the same steps as ``num_workers`` workers."""
    shards = [list(batches(*shard(X, y, r, num_workers), batch_size)) for r in range(num_workers)]
    for step in zip(*shards):
        yield np.concatenate([Xb for Xb, _ in step]), np.concatenate([yb for _, yb in step])


def build_net(seed=SEED):
    """Logistic regression on 2-D points; the same seed gives every process the same start."""
    mx.random.seed(seed)
    net = gluon.nn.Dense(2, in_units=2)
    net.initialize(mx.init.Normal(0.5))
    return net


def train(net, trainer, batch_list, num_epochs, step_size):
    """Plain mini-batch SGD; ``trainer.step(step_size)`` divides the summed gradient by ``step_size``."""
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    for _ in range(num_epochs):
        for Xb, yb in batch_list:
            with autograd.record():
                loss = loss_fn(net(mx.nd.array(Xb)), mx.nd.array(yb))
            loss.backward()
            trainer.step(step_size)


def accuracy(net, X, y):
    y_hat = net(mx.nd.array(X)).argmax(axis=1).asnumpy()
    return float((y_hat == y).mean())


def params_of(net):
    """Final parameters by short name ('weight', 'bias'), as nested lists."""
    return {name[len(net.prefix):]: p.data().asnumpy().tolist()
            for name, p in net.collect_params().items()}


def check_aggregation(kv):
    """Every worker pushes rank + 1; a dist_sync pull returns their sum, 1 + 2 + ... + M."""
    kv.init(CHECK_KEY, mx.nd.zeros((3,)))
    kv.push(CHECK_KEY, mx.nd.ones((3,)) * (kv.rank + 1))
    pulled = mx.nd.zeros((3,))
    kv.pull(CHECK_KEY, out=pulled)
    return pulled.asnumpy().tolist()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="directory for worker-<rank>.json")
    parser.add_argument("--num-workers", type=int, required=True, help="how many workers to expect")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--crash-rank", type=int, default=None, help="this rank exits with code 3")
    parser.add_argument("--raise-rank", type=int, default=None, help="this rank raises an exception")
    parser.add_argument("--local-update", action="store_true",
                        help="update on the workers (update_on_kvstore=False), not on the servers; "
                             "needs MXNET_ENGINE_TYPE=NaiveEngine (MXNet 1.9.1 races otherwise)")
    args = parser.parse_args(argv)

    kv = mx.kv.create("dist_sync")
    print(f"rank {kv.rank} of {kv.num_workers} ({kv.type})")
    # Exits below happen while kv is alive, inside fail_fast(): a return would destroy kv, whose
    # destructor waits for the other workers forever.
    if kv.type != "dist_sync" or kv.num_workers != args.num_workers:
        sys.exit(f"expected dist_sync with {args.num_workers} workers")
    if kv.rank == args.crash_rank:
        print("crashing on purpose")
        sys.exit(3)
    if kv.rank == args.raise_rank:
        raise RuntimeError("failing on purpose")
    pulled = check_aggregation(kv)

    X, y = make_data()
    X_shard, y_shard = shard(X, y, kv.rank, kv.num_workers)
    net = build_net()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": LR}, kvstore=kv,
                            update_on_kvstore=False if args.local_update else None)
    train(net, trainer, list(batches(X_shard, y_shard)), args.epochs, BATCH_SIZE * kv.num_workers)
    result = {"rank": kv.rank, "num_workers": kv.num_workers, "pulled": pulled,
              "accuracy": accuracy(net, X, y), "params": params_of(net)}
    print(f"accuracy {result['accuracy']:.3f}")
    with atomic_write(os.path.join(args.out, f"worker-{kv.rank}.json"), "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    with fail_fast():   # a failure exits at once with its code, see mxdl.distributed.launch.fail_fast
        sys.exit(main())
