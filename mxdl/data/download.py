"""Download a dataset file from MXNet's Gluon mirror: fail fast, show progress, check, then rename.

Lesson: the MNIST demo downloads its data the way ``mxnet.gluon.data.vision.MNIST`` does -- from
``$MXNET_GLUON_REPO/gluon/dataset/<name>/<file>.gz`` into ``$MXNET_HOME/datasets/<name>`` -- so the
two share one cache. A download is written to a temporary file beside its target and renamed into
place only after the sha256 of its uncompressed contents matched: an interrupted or wrong download
leaves nothing behind.
"""
import os
import socket
import urllib.error
import urllib.request
import zlib

from tqdm import tqdm

from ..errors import ChecksumError, DownloadError
from ..utils import atomic_write
from .checksums import UncompressedHash

# The default of mxnet.gluon.utils._get_repo_url() in MXNet 1.9.1; MXNET_GLUON_REPO overrides it
# (for MXNet too), e.g. to point at a local mirror.
GLUON_REPO = "https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/"
TIMEOUT = 10.0  # seconds without an answer before a download gives up (offline: fail fast)
_CHUNK = 1 << 16

# The function that opens URLs. Tests replace it (monkeypatch) so that they never reach the network.
_urlopen = urllib.request.urlopen


def mirror_url(namespace, filename):
    """The URL of ``filename`` of dataset ``namespace`` on MXNet's Gluon mirror."""
    repo = os.environ.get("MXNET_GLUON_REPO") or GLUON_REPO
    return f"{repo.rstrip('/')}/gluon/dataset/{namespace}/{filename}"


def download_file(url, path, *, sha256, timeout=TIMEOUT, progress=True):
    """Download ``url`` to ``path`` atomically, accepting it only if its uncompressed sha256 matches.

    ``path`` ending in ``.gz`` means the download is gzip: it is checked by gunzipping on the fly,
    and stored as downloaded. Raises :class:`DownloadError` when the download fails, and
    :class:`ChecksumError` when the contents are wrong; in both cases ``path`` is left as it was.
    """
    path = os.fspath(path)
    digest = UncompressedHash(gz=path.endswith(".gz"))
    try:
        with _urlopen(url, timeout=timeout) as response, atomic_write(path, "wb") as f:
            size = response.headers.get("Content-Length") if response.headers else None
            with tqdm(total=int(size) if size else None, unit="B", unit_scale=True,
                      unit_divisor=1024, desc=os.path.basename(path), disable=not progress,
                      leave=False) as bar:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    f.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
            actual = digest.hexdigest()
            if actual != sha256:
                # Raised inside atomic_write: the temporary file is removed, ``path`` untouched.
                raise ChecksumError(f"download of {url} is not the expected file: sha256 of its "
                                    f"uncompressed contents is {actual}, expected {sha256}; nothing "
                                    "was saved (a broken mirror or proxy? set MXNET_GLUON_REPO to "
                                    "another mirror, or get the files yourself and pass --data-dir)")
    except (zlib.error, EOFError) as err:
        raise ChecksumError(f"download of {url} is not a valid gzip file ({err}); nothing was "
                            "saved") from None
    except (urllib.error.URLError, socket.timeout, OSError, ValueError) as err:
        reason = getattr(err, "reason", None) or err
        raise DownloadError(f"download of {url} failed: {reason}") from None
