"""MNIST, Fashion-MNIST and mnist-t10k as numpy arrays ready for the net: X in [0, 1], y as int32.

Lesson: the MNIST demo. Each input X is one 28x28 grey image, shaped (1, 28, 28) (one channel, as
Gluon's Conv2D expects; Dense flattens it to 784 inputs), with pixels scaled from 0..255 to [0, 1];
each label y is the class index 0..9.
"""
import dataclasses
import importlib.resources
import os

import numpy as np

from ..errors import DataError, DataNotFoundError
from .idx import read_pair
from .sources import get_spec, locate

EMBEDDED_TRAIN = 8000  # mnist-t10k: the first 8000 of the MNIST test images train, the last 2000 test


@dataclasses.dataclass(repr=False)
class Dataset:
    """A dataset split into ``train`` and ``test``, each an ``(X, y)`` pair.

    X: float32 (N, 1, 28, 28) in [0, 1]; y: int32 (N,) class indices into ``classes``.
    ``source`` says where the files came from.
    """

    name: str
    train: tuple
    test: tuple
    classes: list
    source: str

    def __repr__(self):  # not the arrays themselves: a notebook cell should print one line
        return f"<Dataset {self}>"

    def __str__(self):
        return (f"{self.name}: {len(self.train[1])} train / {len(self.test[1])} test images "
                f"of 1x28x28, {len(self.classes)} classes, from {self.source}")


def to_X(images):
    """uint8 images (N, 28, 28) -> float32 X (N, 1, 28, 28) in [0, 1], scaled in one vectorised step.

    A single image (28, 28) gives X of shape (1, 1, 28, 28).
    """
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[np.newaxis]
    X = images.reshape(len(images), 1, *images.shape[1:]).astype(np.float32)
    X /= 255.0
    return X


def to_y(labels):
    """uint8 labels (N,) -> int32 class indices y (N,)."""
    return labels.astype(np.int32)


def _check_limit(limit):
    if limit is None:
        return
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
        raise DataError(f"limit must be a positive number of training samples, got {limit!r}")


def _read(files, role_images, role_labels, num_classes):
    """Read one image/label pair; files may live inside the package (as_file gives a real path)."""
    with importlib.resources.as_file(files[role_images]) as images_path, \
            importlib.resources.as_file(files[role_labels]) as labels_path:
        return read_pair(images_path, labels_path, num_classes)


def check_data_dir(data_dir):
    """Refuse a ``data_dir`` (``--data-dir``) that is not a directory, before anything is searched.

    The library itself treats such a path as one more place where the files are not; the scripts
    call this first, so that a typo is named as such rather than answered by a search.
    """
    if data_dir is not None and not os.path.isdir(data_dir):
        raise DataError(f"data_dir (--data-dir) {data_dir} is not a directory: name the directory "
                        "that holds the IDX files")


def load_dataset(name, data_dir=None, limit=None, download=True, progress=True):
    """Load dataset ``name`` (one of :data:`DATASETS`) as a :class:`Dataset`.

    Files are searched in ``data_dir``, MXNet's cache and system-wide copies (see
    :mod:`mxdl.data.sources`), then, if ``download``, downloaded into the cache (with a progress bar
    if ``progress``). ``limit`` keeps the first ``limit`` training samples (all of them if there are
    fewer); the test set is always complete. ``mnist-t10k`` splits the MNIST test set: train = its
    first 8000 images, test = its last 2000.

    Raises :class:`DataNotFoundError` if the files are nowhere and cannot be downloaded, and
    :class:`~mxdl.errors.DataError` if a file is truncated, corrupt or does not match its partner.
    """
    spec = get_spec(name)
    _check_limit(limit)
    files, where = locate(name, data_dir, download=download, progress=progress)
    num_classes = len(spec.classes)
    if spec.name == "mnist-t10k":
        images, labels = _read(files, "test_images", "test_labels", num_classes)
        train = images[:EMBEDDED_TRAIN], labels[:EMBEDDED_TRAIN]
        test = images[EMBEDDED_TRAIN:], labels[EMBEDDED_TRAIN:]
        where += f"; train = its first {EMBEDDED_TRAIN} images, test = the other {len(test[1])}"
    else:
        train = _read(files, "train_images", "train_labels", num_classes)
        test = _read(files, "test_images", "test_labels", num_classes)
    for part, which, role in ((train, "training", "train_images"), (test, "test", "test_images")):
        if len(part[1]) == 0:
            if spec.name == "mnist-t10k":  # (both sets come from the one t10k file)
                holds = (f"{files['test_images']} holds {len(images)} images (its first "
                         f"{EMBEDDED_TRAIN} train, the rest test)")
            else:
                holds = f"{files[role]} holds 0 images"
            raise DataError(f"the {which} set of {spec.title} is empty: {holds}; give files with "
                            "images in them")
    train_images, train_labels = train
    if limit is not None:
        train_images, train_labels = train_images[:limit], train_labels[:limit]
    return Dataset(name=spec.name,
                   train=(to_X(train_images), to_y(train_labels)),
                   test=(to_X(test[0]), to_y(test[1])),
                   classes=list(spec.classes),
                   source=where)


def load_dataset_or_fallback(name, data_dir=None, limit=None, download=True, progress=True):
    """:func:`load_dataset`, but MNIST that is nowhere to be had falls back to ``mnist-t10k``.

    Returns ``(dataset, note)``; ``note`` is None, or one line for the script to print saying why
    it uses ``mnist-t10k``. The fallback happens only for ``name == 'mnist'`` without ``data_dir``
    (a directory you named that lacks the files is your mistake to hear about), and only when the
    files are missing and cannot be downloaded (:class:`DataNotFoundError`) -- never for a file
    that is there but corrupt.
    """
    try:
        return load_dataset(name, data_dir, limit, download, progress), None
    except DataNotFoundError as err:
        if name != "mnist" or data_dir is not None:
            raise
        searched = ", ".join(str(directory) for directory in err.searched)
        why = f"; download failed: {err.download_error}" if err.download_error else ""
        dataset = load_dataset("mnist-t10k", None, limit, download=False)
        note = (f"note: MNIST not found in {searched}{why}. Using mnist-t10k instead, the real "
                f"MNIST test set shipped with mxdl ({len(dataset.train[1])} train / "
                f"{len(dataset.test[1])} test images); pass --data-dir DIR for the full MNIST")
        return dataset, note
