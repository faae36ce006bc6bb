"""The data of the MNIST demo: MNIST, Fashion-MNIST and mnist-t10k as arrays X, y.

Lesson: the MNIST demo trains a net on 28x28 grey images X (float32, shape (N, 1, 28, 28), pixels in
[0, 1]) with labels y (int32 class indices 0..9)::

    from mxdl.data import load_dataset
    data = load_dataset("mnist-t10k")        # works offline: shipped with mxdl
    X, y = data.train                         # (8000, 1, 28, 28) float32, (8000,) int32
    print(data)                               # sizes and where the files came from

Datasets (:data:`DATASETS`):

* ``mnist`` -- the MNIST handwritten digits, 60000 train / 10000 test;
* ``fashion-mnist`` -- Zalando's Fashion-MNIST, the same format and sizes, 10 kinds of clothing;
* ``mnist-t10k`` -- the real MNIST test set shipped inside mxdl, split 8000 train / 2000 test.

Files are looked for in ``data_dir``, then MXNet's cache ``$MXNET_HOME/datasets/<name>``, then
system-wide copies (Debian's ``/usr/share/datasets/fashion-mnist``), then downloaded from MXNet's
Gluon mirror into the cache (see :mod:`mxdl.data.sources`). Modules: :mod:`~mxdl.data.idx` (the
file format), :mod:`~mxdl.data.sources` (where files are), :mod:`~mxdl.data.download`,
:mod:`~mxdl.data.checksums`, :mod:`~mxdl.data.datasets` (arrays for the net),
:mod:`~mxdl.data.images` (your own pictures for prediction).
"""
from ..errors import ChecksumError, DataError, DataNotFoundError, DownloadError
from .checksums import SHA256, sha256_uncompressed
from .datasets import Dataset, check_data_dir, load_dataset, load_dataset_or_fallback, to_X, to_y
from .download import download_file, mirror_url
from .idx import read_idx, read_images, read_labels, read_pair, write_idx
from .images import load_each, load_images
from .sources import DATASETS, FILE_NAMES, cache_dir, find_files, mxnet_home, search_dirs

__all__ = [
    "DATASETS", "Dataset", "check_data_dir", "load_dataset", "load_dataset_or_fallback", "to_X", "to_y",
    "read_idx", "write_idx", "read_images", "read_labels", "read_pair",
    "find_files", "search_dirs", "cache_dir", "mxnet_home", "FILE_NAMES",
    "download_file", "mirror_url", "SHA256", "sha256_uncompressed",
    "DataError", "DataNotFoundError", "DownloadError", "ChecksumError",
    "load_images", "load_each",
]
