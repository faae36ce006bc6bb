"""What a ``.params`` file (MXNet's NDArray list format) asks for, read from its headers alone.

MXNet allocates each array as its header describes before reading the data, so a corrupt header
(a flipped bit in a size) can ask for tens of gigabytes and end in a silent out-of-memory kill.
:func:`check_params_file` walks the headers first and refuses any size the file cannot hold.

The format (``NDArray::Save`` in MXNet 1.x, little-endian)::

    uint64 0x112, uint64 0                         list magic, reserved
    uint64 count, then count arrays:
        uint32 magic                               0xF993FAC8 (v1), ...C9 (v2), ...CA (v3, numpy shapes)
        int32  storage type                        v2/v3 only; 0 = dense
        uint32/int32 ndim, ndim x int64 sizes      v2: ndim 0 = none; v3: ndim -1 = none, 0 = scalar
        int32 device type, int32 device id, int32 dtype flag
        prod(sizes) x itemsize bytes of data
    uint64 count, then count x (uint64 length, bytes)   the names
"""
import math
import os
import struct

from .errors import MxdlError

_LIST_MAGIC = 0x112
_V1, _V2, _V3 = 0xF993FAC8, 0xF993FAC9, 0xF993FACA
# mshadow type flags -> bytes per element
_ITEMSIZE = {0: 4, 1: 8, 2: 2, 3: 1, 4: 4, 5: 1, 6: 8, 7: 1, 8: 2, 9: 2, 10: 4, 11: 8, 12: 2}


class _Corrupt(Exception):
    pass


class _Reader:
    def __init__(self, f, size):
        self.f, self.size = f, size

    def left(self):
        return self.size - self.f.tell()

    def take(self, fmt):
        n = struct.calcsize(fmt)
        data = self.f.read(n)
        if len(data) < n:
            raise _Corrupt(f"it ends inside a header (byte {self.f.tell()} of {self.size})")
        return struct.unpack("<" + fmt, data)

    def skip(self, n, what):
        if n > self.left():
            raise _Corrupt(f"{what} needs {n:,} bytes but only {self.left():,} are left in the file")
        self.f.seek(n, os.SEEK_CUR)


def _check_array(r, index):
    """Read array ``index``'s header and skip its data, refusing sizes the file cannot hold."""
    (magic,) = r.take("I")
    if magic not in (_V1, _V2, _V3):
        raise _Corrupt(f"array {index} has no array header (magic {magic:#x})")
    if magic != _V1:
        (stype,) = r.take("i")
        if stype != 0:  # mxdl's models never save sparse arrays (1 row_sparse, 2 csr)
            raise _Corrupt(f"array {index} has storage type {stype}, not a dense array")
    (ndim,) = r.take("i" if magic == _V3 else "I")
    if (magic == _V3 and ndim == -1) or (magic != _V3 and ndim == 0):
        return  # an array with no shape: nothing follows
    if ndim < 0 or 8 * ndim > r.left():
        raise _Corrupt(f"array {index} claims {ndim} dimensions")
    shape = r.take(f"{ndim}q")
    if any(d < 0 for d in shape):
        raise _Corrupt(f"array {index} has a negative size in its shape {shape}")
    _, _, dtype = r.take("iii")
    if dtype not in _ITEMSIZE:
        raise _Corrupt(f"array {index} has an unknown element type {dtype}")
    count = math.prod(shape)  # Python integers: no overflow
    r.skip(count * _ITEMSIZE[dtype], f"array {index} of shape {shape}")


def check_params_file(path):
    """Raise :class:`MxdlError` if ``path``'s headers ask for more data than the file holds.

    Only the headers are read (a few bytes per array); the data is skipped.  A file whose format is
    not recognised is refused too, and so are sparse arrays (mxdl never saves any).
    """
    path = os.fspath(path)
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            r = _Reader(f, size)
            magic, _ = r.take("QQ")
            if magic != _LIST_MAGIC:
                raise _Corrupt(f"it does not start with MXNet's magic number {_LIST_MAGIC:#x}")
            (count,) = r.take("Q")
            if count > r.left():
                raise _Corrupt(f"its header claims {count:,} arrays")
            for index in range(count):
                _check_array(r, index)
            (names,) = r.take("Q")
            if names not in (0, count):
                raise _Corrupt(f"it holds {count} arrays but {names:,} names")
            for index in range(names):
                (length,) = r.take("Q")
                r.skip(length, f"the name of array {index}")
    except OSError as err:
        raise MxdlError(f"cannot read params file {path}: {err.strerror or err}") from None
    except _Corrupt as err:
        raise MxdlError(f"params file {path} is corrupt or not a params file: {err}; give a file "
                        "written by --save (or <model>.params of an --out folder)") from None
