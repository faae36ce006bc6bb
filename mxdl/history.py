"""What training returns: one :class:`EpochStats` per epoch, in a :class:`History`.

The talk's loop prints a line per epoch; mxdl keeps the numbers instead (loop pieces return numbers),
and printing, plotting, the CSV/JSON files and the tests all read the same history.
"""
import csv
import dataclasses
import io
import json

from .files import atomic_write


@dataclasses.dataclass
class EpochStats:
    """What one epoch (one pass over the training data) did."""

    epoch: int
    cost: float  # mean loss over the epoch's training samples, as seen during the epoch
    train_acc: float  # accuracy on the training batches as they were seen during the epoch
    test_acc: float  # accuracy on the test data after the epoch (nan when there is none)
    updates: int  # trainer steps this epoch: 1 for GD, N for SGD, ceil(N/b) for mini-batch
    seconds: float
    samples_per_sec: float
    lr: float = float("nan")  # the learning rate of the epoch's last update (a schedule changes it)


class History(list):
    """A list of :class:`EpochStats`, one per epoch, that printing, plotting and tests all consume."""

    fields = [f.name for f in dataclasses.fields(EpochStats)]

    def column(self, name):
        """All epochs' values of one field, e.g. ``history.column('cost')``."""
        if name not in self.fields:
            raise KeyError(f"no column {name!r}; columns are {', '.join(self.fields)}")
        return [getattr(stats, name) for stats in self]

    @property
    def last(self):
        """The last epoch's stats."""
        return self[-1]

    def to_dicts(self):
        return [dataclasses.asdict(stats) for stats in self]

    def to_csv(self, path):
        """Write one row per epoch to ``path`` (atomically)."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.fields)
        writer.writeheader()
        writer.writerows(self.to_dicts())
        with atomic_write(path, "w") as f:
            f.write(buffer.getvalue())

    def to_json(self, path):
        """Write the history as a JSON list of objects to ``path`` (atomically)."""
        text = json.dumps(self.to_dicts(), indent=2, allow_nan=True)
        with atomic_write(path, "w") as f:
            f.write(text + "\n")
