"""Download a dataset file from MXNet's Gluon mirror: fail fast, show progress, check, then rename.

Lesson: the MNIST demo downloads its data the way ``mxnet.gluon.data.vision.MNIST`` does -- from
``$MXNET_GLUON_REPO/gluon/dataset/<name>/<file>.gz`` into ``$MXNET_HOME/datasets/<name>`` -- so the
two share one cache. A download is written to a temporary file beside its target and renamed into
place only after the sha256 of its uncompressed contents matched: an interrupted (even by SIGTERM),
stalled or wrong download leaves nothing behind, and temporary files of killed runs are removed.
"""
import gzip
import math
import os
import socket
import time
import urllib.error
import urllib.request
import zlib

from tqdm import tqdm

from ..errors import ChecksumError, DownloadError, MxdlError
from ..files import atomic_write
from .checksums import sha256_of

# The default of mxnet.gluon.utils._get_repo_url() in MXNet 1.9.1; MXNET_GLUON_REPO overrides it
# (for MXNet too), e.g. to point at a local mirror.
GLUON_REPO = "https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/"
TIMEOUT = 10.0  # seconds without an answer before a download gives up (offline: fail fast)
DEADLINE = 600.0  # seconds for a whole file (MNIST's largest is 9.9 MB: 17 kB/s is enough)
DEADLINE_VARIABLE = "MXDL_DOWNLOAD_DEADLINE"  # overrides DEADLINE, e.g. on a slower link
_CHUNK = 1 << 16

# The function that opens URLs. Tests replace it (monkeypatch) so that they never reach the network.
_urlopen = urllib.request.urlopen


def mirror_url(namespace, filename):
    """The URL of ``filename`` of dataset ``namespace`` on MXNet's Gluon mirror."""
    repo = os.environ.get("MXNET_GLUON_REPO") or GLUON_REPO
    return f"{repo.rstrip('/')}/gluon/dataset/{namespace}/{filename}"


def download_deadline():
    """Seconds a whole file may take: ``$MXDL_DOWNLOAD_DEADLINE`` if set, else :data:`DEADLINE`."""
    text = os.environ.get(DEADLINE_VARIABLE, "").strip()
    if not text:
        return DEADLINE
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0 < value < math.inf):
        raise MxdlError(f"{DEADLINE_VARIABLE} must be a positive number of seconds, got {text!r}: "
                        f"set it to e.g. 3600 for a slow link, or unset it for {DEADLINE:.0f} s")
    return value


def _reader(response):
    """A function reading the next chunk as soon as any bytes arrive (not once 64 KiB are in)."""
    read = getattr(response, "read1", None) or response.read
    return lambda: read(_CHUNK)


def download_file(url, path, *, sha256, timeout=TIMEOUT, deadline=None, progress=True):
    """Download ``url`` to ``path`` atomically, accepting it only if its uncompressed sha256 matches.

    ``path`` ending in ``.gz`` means the download is gzip: it is checked by gunzipping it as the IDX
    reader will (every gzip member), and stored as downloaded. ``timeout`` bounds each wait for the
    server, ``deadline`` the whole download (a server that trickles a byte at a time fails too;
    None: :func:`download_deadline`).
    Raises :class:`DownloadError` when the download fails, and :class:`ChecksumError` when the
    contents are wrong; in both cases ``path`` is left as it was and no temporary file remains.
    """
    path = os.fspath(path)
    if deadline is None:
        deadline = download_deadline()
    give_up = time.monotonic() + deadline
    try:
        with _urlopen(url, timeout=timeout) as response, atomic_write(path, "w+b") as f:
            size = response.headers.get("Content-Length") if response.headers else None
            with tqdm(total=int(size) if size else None, unit="B", unit_scale=True,
                      unit_divisor=1024, desc=os.path.basename(path), disable=not progress,
                      leave=False) as bar:
                for chunk in iter(_reader(response), b""):
                    f.write(chunk)
                    bar.update(len(chunk))
                    if time.monotonic() > give_up:
                        raise DownloadError(f"download of {url} took longer than {deadline:g} s "
                                            "(a slow or stalled server); nothing was saved")
            f.flush()
            f.seek(0)
            actual = sha256_of(f, gz=path.endswith(".gz"))
            if actual != sha256:
                # Raised inside atomic_write: the temporary file is removed, ``path`` untouched.
                raise ChecksumError(f"download of {url} is not the expected file: sha256 of its "
                                    f"uncompressed contents is {actual}, expected {sha256}; nothing "
                                    "was saved (a broken mirror or proxy? set MXNET_GLUON_REPO to "
                                    "another mirror, or get the files yourself and pass --data-dir)")
    except (zlib.error, EOFError, gzip.BadGzipFile) as err:
        raise ChecksumError(f"download of {url} is not a valid gzip file ({err}); nothing was "
                            "saved") from None
    except (urllib.error.URLError, socket.timeout, ValueError) as err:
        reason = getattr(err, "reason", None) or err
        raise DownloadError(f"download of {url} failed: {reason}") from None
    except OSError as err:  # a network error (file-system errors are FileErrors, raised as they are)
        raise DownloadError(f"download of {url} failed: {err.strerror or err}") from None
