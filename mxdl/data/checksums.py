"""Checksums of the real MNIST and Fashion-MNIST files, and how to compute one.

A download is accepted only if the sha256 of its *uncompressed* contents is in this table. We hash
the uncompressed bytes because the .gz wrappers differ between copies of the same data (Debian
recompresses Fashion-MNIST; the shipped mnist-t10k copy is recompressed too), while the IDX bytes
inside are identical everywhere.

Where the values come from:

* ``fashion-mnist``: computed for this project from Debian's package ``dataset-fashion-mnist``
  (``gunzip -c FILE | sha256sum`` on /usr/share/datasets/fashion-mnist/*.gz); the same values are
  published independently by public projects that verify Fashion-MNIST (found with code search).
* ``mnist`` t10k files: computed for this project from the MNIST test set in
  /work/shared/data/mnist-t10k (the files shipped as mxdl/data/embedded/mnist-t10k).
* ``mnist`` train files: the MNIST training set is not available where mxdl was written, so these
  are the values published by several independent public projects that list sha256 of the
  uncompressed MNIST files (found with code search); those projects' t10k values equal the ones
  computed here, and their uncompressed md5s (train-images 6bbc9ace898e44ae57da46a324031adb,
  train-labels a25bea736e30d166cdddb491f175f624) are the widely published ones.

For reference, MXNet 1.9.1's gluon.data.vision checks these sha1s of the mirror's *.gz* files
(mxnet/gluon/data/vision/datasets.py); we do not use them, because only the mirror's own .gz
files have them.
    mnist:         train-images 6c95f4b05d2bf285e1bfb0e7960c31bd3b3f8a7d, train-labels
                   2a80914081dc54586dbdf242f9805a6b8d2a15fc, t10k-images c3a25af1f52dad7f726cce8cacb138654b760d48,
                   t10k-labels 763e7fa3757d93b0cdec073cef058b2004252c17
    fashion-mnist: train-images 0cf37b0d40ed5169c6b3aba31069a9770ac9043d, train-labels
                   236021d52f1e40852b06a4c3008d8de8aef1e40b, t10k-images 626ed6a7c06dd17c0eec72fa3be1740f146a2863,
                   t10k-labels 17f9ab60e7257a1620f4ad76bbbaf857c3920701
"""
import gzip
import hashlib
import os
import zlib

from ..errors import DataError

# dataset name -> IDX file name (without .gz) -> sha256 of the uncompressed file
SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}


def sha256_of(f, gz, chunk_size=1 << 20):
    """The sha256 of what the IDX reader reads from open binary file ``f``: gunzipped if ``gz``.

    Both use Python's gzip module, so every gzip member the reader would inflate is hashed, and
    nothing else (a file with an extra member has another checksum). Raises zlib.error, EOFError or
    gzip.BadGzipFile (an OSError) when the gzip stream is corrupt or cut short.
    """
    digest = hashlib.sha256()
    stream = gzip.GzipFile(fileobj=f, mode="rb") if gz else f
    for chunk in iter(lambda: stream.read(chunk_size), b""):
        digest.update(chunk)
    return digest.hexdigest()


def sha256_uncompressed(path, chunk_size=1 << 20):
    """The sha256 of ``path``'s uncompressed contents (gunzipped if the name ends in ``.gz``)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            return sha256_of(f, path.endswith(".gz"), chunk_size)
    except (zlib.error, EOFError, gzip.BadGzipFile) as err:
        raise DataError(f"{path} is not a valid gzip file ({err}): it is truncated or corrupt") from None
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror or err}") from None


def expected_sha256(name, filename):
    """The table's sha256 for ``filename`` (with or without .gz) of dataset ``name``, or None."""
    if filename.endswith(".gz"):
        filename = filename[:-3]
    return SHA256.get(name, {}).get(filename)
