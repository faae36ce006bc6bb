"""The IDX file format of MNIST and Fashion-MNIST: read, validate, write.

Lesson: the MNIST demo's inputs X are 28x28 grey images and its labels y are digits 0..9; this module
turns the four IDX files they are stored in into numpy arrays, and says which file is wrong and how
when one is truncated, corrupt or does not match its partner.

An IDX file is a big-endian header and then the raw array::

    bytes 0-1   0x00 0x00
    byte  2     element type (0x08 = unsigned byte, the only type MNIST uses)
    byte  3     number of dimensions d
    then d big-endian uint32 sizes, then prod(sizes) elements in C order.

So an image file (d = 3: count, rows, columns) starts with the magic number 0x00000803 = 2051 and
a label file (d = 1: count) with 0x00000801 = 2049. A path ending in ``.gz`` is gzip-compressed.
"""
import gzip
import math
import os
import stat
import struct
import zlib

import numpy as np

from ..errors import DataError
from ..files import atomic_write

IMAGES_MAGIC = 2051  # unsigned bytes, 3 dimensions: (count, rows, columns)
LABELS_MAGIC = 2049  # unsigned bytes, 1 dimension: (count,)
UBYTE = 0x08
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
_GZIP_MAGIC = b"\x1f\x8b"


# Deflate cannot compress better than about 1032:1 (RFC 1951: a 258-byte match in at most ~2 bits),
# so a .gz file of S bytes cannot hold more than this many times S bytes of data.
MAX_GZIP_RATIO = 1032


def _available_memory():
    """Bytes of memory available to a new allocation (MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_regular_file(path, what="file"):
    """Refuse, with one line, a path that is missing or is not a regular file (a FIFO would hang a read)."""
    try:
        info = os.stat(path)
    except OSError as err:
        raise DataError(f"cannot read {what} {path}: {err.strerror or err}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file (a FIFO or device?)"
        raise DataError(f"cannot read {what} {path}: it is {kind}; give a regular file")


def _open(path):
    """``(stream, raw file, size, gz)``: ``path`` opened for reading, gunzipped on the fly if ``.gz``."""
    check_regular_file(path, "IDX file")
    try:
        f = open(path, "rb")
        size = os.fstat(f.fileno()).st_size
    except OSError as err:
        raise DataError(f"cannot read IDX file {path}: {err.strerror or err}") from None
    if os.fspath(path).endswith(".gz"):
        return gzip.GzipFile(fileobj=f, mode="rb"), f, size, True
    return f, f, size, False


def _read(stream, n, path):
    """Read ``n`` bytes, or fewer at the end of the data; gzip damage is a DataError naming ``path``."""
    try:
        return stream.read(n)
    except (OSError, EOFError, zlib.error) as err:
        # BadGzipFile (an OSError) for a wrong header, EOFError for a cut-off file, zlib.error for
        # corrupt compressed data.
        raise DataError(f"{path} is not a valid gzip file ({err}): it is truncated or corrupt; "
                        "download or copy it again") from None


def _check_header(path, data):
    """``ndim`` from the 4-byte magic, or a DataError saying what the file is instead."""
    if len(data) < 4:
        raise DataError(f"{path} is truncated: {len(data)} bytes, too short for an IDX header")
    zero, dtype, ndim = struct.unpack(">HBB", data)
    if zero != 0 or dtype != UBYTE or ndim == 0:
        magic = int.from_bytes(data, "big")
        hint = (" (it looks gzip-compressed: name it *.gz)" if data[:2] == _GZIP_MAGIC else "")
        raise DataError(f"{path} is not an unsigned-byte IDX file: bad magic number {magic} "
                        f"(expected {IMAGES_MAGIC} for images or {LABELS_MAGIC} for labels){hint}")
    return ndim


def _check_size(path, shape, expected, size, gz):
    """Refuse a header that asks for more data than the file can hold, before reading the data."""
    header = f"{path} is truncated or corrupt: its header promises shape {shape} = {expected:,} bytes"
    if not gz and expected > size:
        raise DataError(f"{header} of data but the file holds {size:,} bytes in all; download or "
                        "copy it again")
    if gz and expected > MAX_GZIP_RATIO * size:
        raise DataError(f"{header}, more than a {size:,}-byte .gz file can hold (gzip compresses at "
                        f"most {MAX_GZIP_RATIO}:1); download or copy it again")
    available = _available_memory()
    if available is not None and expected > available:
        raise DataError(f"{path}: its header promises shape {shape} = {expected:,} bytes, more than "
                        f"the {available:,} bytes of memory available; is it the right file?")


def read_idx(path):
    """Read an unsigned-byte IDX file (raw, or gzip if ``path`` ends in ``.gz``) as a uint8 array.

    The header is read first and the sizes it promises are checked against what the file can hold
    before the data is read (or inflated), so a corrupt header or a .gz bomb is refused early.  The
    sizes must account for every byte: a short file is reported as truncated, a long one as having
    trailing bytes. Raises :class:`~mxdl.errors.DataError` naming ``path``.
    """
    stream, raw, size, gz = _open(path)
    with raw, stream:
        ndim = _check_header(path, _read(stream, 4, path))
        header_size = 4 + 4 * ndim
        sizes = _read(stream, 4 * ndim, path)
        if len(sizes) < 4 * ndim:
            raise DataError(f"{path} is truncated: its {ndim}-dimension IDX header needs "
                            f"{header_size} bytes, the file has {4 + len(sizes)}")
        shape = struct.unpack(f">{ndim}I", sizes)
        expected = math.prod(shape)  # a Python int: no overflow, whatever the header says
        _check_size(path, shape, expected, size, gz)
        data = _read(stream, expected, path)
        if len(data) < expected:
            raise DataError(f"{path} is truncated: its header promises shape {shape} = {expected:,} "
                            f"bytes of data but the file holds {len(data):,}; download or copy it "
                            "again")
        extra = len(_read(stream, 1 << 16, path))  # read a little more, never the whole rest
        if extra:
            more = "" if gz else f"{size - header_size - expected:,} "
            raise DataError(f"{path} is corrupt: {more}unexpected bytes after the {shape} array its "
                            "header describes")
    # Copy so that callers get an ordinary writable array, not a view of an immutable bytes object.
    return np.frombuffer(data, dtype=np.uint8).reshape(shape).copy()


def write_idx(path, array):
    """Write a uint8 ``array`` as an IDX file (gzip if ``path`` ends in ``.gz``), atomically.

    Integer arrays with values in 0..255 are accepted and stored as unsigned bytes.
    """
    array = np.asarray(array)
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"write_idx needs an array of 1 to 255 dimensions, got shape {array.shape}")
    if array.dtype != np.uint8:
        if array.dtype.kind not in "iu" or array.size and (array.min() < 0 or array.max() > 255):
            raise ValueError(f"write_idx stores unsigned bytes: got {array.dtype} values that are "
                             "not integers in 0..255")
        array = array.astype(np.uint8)
    header = struct.pack(f">HBB{array.ndim}I", 0, UBYTE, array.ndim, *array.shape)
    payload = header + np.ascontiguousarray(array).tobytes()
    path = os.fspath(path)
    with atomic_write(path, "wb") as f:
        if path.endswith(".gz"):
            # mtime=0 and a fixed inner name make the .gz bytes depend only on the array.
            with gzip.GzipFile(filename=os.path.basename(path), mode="wb", fileobj=f, mtime=0) as gz:
                gz.write(payload)
        else:
            f.write(payload)


def read_images(path):
    """Read an MNIST-style image file: IDX magic 2051, shape (count, 28, 28), uint8."""
    images = read_idx(path)
    if images.ndim != 3:
        raise DataError(f"{path} is not an IDX image file: magic number {0x0800 + images.ndim} "
                        f"(expected {IMAGES_MAGIC}); is it a label file?")
    if images.shape[1:] != IMAGE_SHAPE:
        raise DataError(f"{path} holds {images.shape[1]}x{images.shape[2]} images; the MNIST "
                        f"models need {IMAGE_SHAPE[0]}x{IMAGE_SHAPE[1]}")
    return images


def read_labels(path, num_classes=NUM_CLASSES):
    """Read an MNIST-style label file: IDX magic 2049, shape (count,), values 0..num_classes-1."""
    labels = read_idx(path)
    if labels.ndim != 1:
        raise DataError(f"{path} is not an IDX label file: magic number {0x0800 + labels.ndim} "
                        f"(expected {LABELS_MAGIC}); is it an image file?")
    if labels.size and labels.max() >= num_classes:
        bad = np.flatnonzero(labels >= num_classes)
        raise DataError(f"{path} is corrupt: {bad.size} labels are outside 0..{num_classes - 1} "
                        f"(the first is {labels[bad[0]]} at index {bad[0]})")
    return labels


def read_pair(images_path, labels_path, num_classes=NUM_CLASSES):
    """Read and cross-check an image file and its label file: one label per image.

    Returns ``(images, labels)``: uint8 arrays of shapes (N, 28, 28) and (N,).
    """
    images = read_images(images_path)
    labels = read_labels(labels_path, num_classes)
    if len(images) != len(labels):
        raise DataError(f"{images_path} holds {len(images)} images but {labels_path} holds "
                        f"{len(labels)} labels: the two files do not belong together")
    return images, labels
