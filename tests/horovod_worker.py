"""One Horovod rank of tests/test_horovod.py: the talk's loop (``mxdl.train.fit``) on this rank's shard.

Run it through horovodrun::

    horovodrun -np 2 -H localhost:2 --gloo python tests/horovod_worker.py DATA_DIR OUT_DIR --batch-size 32

Each rank trains the same model from the same seed on its interleaved shard of the unshuffled IDX
training set with ``mxdl.distributed.horovod``'s trainer (rank 0's weights broadcast, gradients
averaged over the ranks: ``fit(..., kvstore=horovod.init())``), ``trainer.step(local batch)`` inside
``fit``, and writes
``OUT_DIR/rank<r>.params`` and ``OUT_DIR/rank<r>.json`` (rank, size, history).  With ``--kvstore-horovod``
it instead asks ``fit`` for MXNet's 'horovod' kvstore, which must be refused.
"""
import argparse
import json
import os
import sys

import mxdl  # noqa: F401  (sets MXNet's environment before MXNet is imported)
from mxdl.distributed import horovod
from mxdl.errors import MxdlError

from mxnet import gluon  # noqa: E402

from mxdl.data import load_dataset  # noqa: E402
from mxdl.models import default_init, get_model  # noqa: E402
from mxdl.train import fit  # noqa: E402
from mxdl.files import atomic_write  # noqa: E402
from mxdl.utils import save_params, seed_everything  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("out")
    parser.add_argument("--model", default="logreg")
    parser.add_argument("--batch-size", type=int, default=32, help="per rank")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--different-seeds", action="store_true",
                        help="seed rank r with seed + r, so only the broadcast can make them agree")
    parser.add_argument("--kvstore-horovod", action="store_true")
    args = parser.parse_args(argv)

    ranks = horovod.init()
    rank, size = ranks.rank, ranks.num_workers
    dataset = load_dataset("mnist", data_dir=args.data_dir, download=False, progress=False)
    seed_everything(args.seed + (rank if args.different_seeds else 0))
    net = get_model(args.model, init=default_init(args.model))
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    if args.kvstore_horovod:
        fit(net, loss_fn, dataset.train, num_epochs=1, batch_size=args.batch_size, lr=args.lr,
            kvstore="horovod")
        return 0
    history = fit(net, loss_fn, dataset.train, dataset.test, num_epochs=args.epochs,
                  batch_size=args.batch_size, lr=args.lr, shuffle=False, kvstore=ranks)
    save_params(net, os.path.join(args.out, f"rank{rank}.params"))
    with atomic_write(os.path.join(args.out, f"rank{rank}.json"), "w") as f:
        json.dump({"rank": rank, "size": size, "history": history.to_dicts()}, f)
    print(f"rank {rank} of {size}: test_acc {history.last.test_acc:.4f}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except MxdlError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
