"""TensorBoard event files of a run: cost, accuracies, learning rate and speed per epoch (and per
logging interval), for ``tensorboard --logdir DIR``.

The writer is tensorboardX (an optional extra: ``pip install 'mxdl[tensorboard]'``).  MXNet's own
``mxboard`` (0.1.0, 2018) was tried first: its generated protobuf code cannot be imported with
protobuf 4 or later ("Descriptors cannot be created directly"), and TensorBoard itself now needs
protobuf >= 6, so the two cannot be installed together; tensorboardX writes the same event files and
is maintained.  Nothing else in mxdl imports it.
"""
import math

from .errors import MxdlError

# (tag in TensorBoard, EpochStats field): the talk's vocabulary, grouped by panel.
EPOCH_SCALARS = (("epoch/cost", "cost"), ("epoch/train_acc", "train_acc"), ("epoch/test_acc", "test_acc"),
                 ("epoch/lr", "lr"), ("epoch/samples_per_sec", "samples_per_sec"),
                 ("epoch/seconds", "seconds"))


def _summary_writer():
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise MxdlError("--tensorboard needs tensorboardX, which is not installed: "
                        "pip install 'mxdl[tensorboard]' (or pip install tensorboardX tensorboard)") from None
    return SummaryWriter


class TensorBoardLog:
    """Writes a run's scalars into TensorBoard event files under ``logdir``.

    :meth:`epoch` takes one epoch's stats (any object with the :data:`EPOCH_SCALARS` fields it has:
    a missing or NaN value is skipped); :meth:`batch` logs the running cost and accuracy every
    logging interval, at the global step ``(batches done)``.
    """

    def __init__(self, logdir, flush_secs=10):
        self.logdir = str(logdir)
        self._writer = _summary_writer()(logdir=self.logdir, flush_secs=flush_secs)

    def scalar(self, tag, value, step):
        """One value; None and NaN/inf are skipped (TensorBoard draws them as gaps anyway)."""
        if value is None:
            return
        value = float(value)
        if math.isfinite(value):
            self._writer.add_scalar(tag, value, global_step=int(step))

    def epoch(self, stats):
        """The scalars of one epoch, at step ``stats.epoch``."""
        for tag, field in EPOCH_SCALARS:
            self.scalar(tag, getattr(stats, field, None), stats.epoch)

    def batch(self, step, cost, train_acc=None, lr=None):
        """Running values every logging interval (``step``: batches done since the run started)."""
        self.scalar("batch/cost", cost, step)
        self.scalar("batch/train_acc", train_acc, step)
        self.scalar("batch/lr", lr, step)

    def text(self, tag, text):
        """A text panel, e.g. the run's config."""
        self._writer.add_text(tag, text, global_step=0)

    def close(self):
        self._writer.flush()
        self._writer.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_scalars(logdir):
    """``{tag: [(step, value), ...]}`` of the event files in ``logdir``, read with TensorBoard's own
    reader (needs the ``tensorboard`` package)."""
    from tensorboard.backend.event_processing import event_accumulator

    accumulator = event_accumulator.EventAccumulator(str(logdir))
    accumulator.Reload()
    return {tag: [(event.step, event.value) for event in accumulator.Scalars(tag)]
            for tag in accumulator.Tags()["scalars"]}
