"""--tensorboard's event files, read back with TensorBoard's own reader (skipped without the extra)."""
import dataclasses
import math

import pytest

pytest.importorskip("tensorboardX", reason="the tensorboard extra is not installed")
pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")

from mxdl.tensorboard_log import TensorBoardLog, read_scalars  # noqa: E402


@dataclasses.dataclass
class Stats:
    epoch: int
    cost: float
    train_acc: float
    test_acc: float
    lr: float
    samples_per_sec: float
    seconds: float


def test_epoch_and_batch_scalars_read_back_with_tensorboards_reader(tmp_path):
    epochs = [Stats(1, 0.9, 0.7, 0.8, 0.1, 5000.0, 2.0), Stats(2, 0.5, 0.85, float("nan"), 0.05, 6000.0, 1.5)]
    with TensorBoardLog(tmp_path) as log:
        for stats in epochs:
            log.epoch(stats)
        log.batch(10, cost=1.25, train_acc=0.5, lr=0.1)
        log.text("config", "model=logreg")
    scalars = read_scalars(tmp_path)
    assert [step for step, _ in scalars["epoch/cost"]] == [1, 2]
    assert [v for _, v in scalars["epoch/cost"]] == pytest.approx([0.9, 0.5])
    assert [v for _, v in scalars["epoch/lr"]] == pytest.approx([0.1, 0.05])
    assert scalars["epoch/test_acc"] == [(1, pytest.approx(0.8))]  # the NaN is a gap, not a point
    assert scalars["batch/cost"] == [(10, 1.25)]
    assert not any(math.isnan(v) for values in scalars.values() for _, v in values)
