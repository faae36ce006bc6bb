"""User-facing errors.

Anything a user can get wrong -- a flag value, a missing data file, a GPU that is not there, a learning
rate that makes the cost diverge -- is raised as an :class:`MxdlError` whose message says what was wrong
and what to do.  The command-line scripts print that message as one line and exit non-zero; library
users catch it like any other exception.
"""


class MxdlError(Exception):
    """An error caused by the user's input or environment, with a message meant for that user."""


class DataError(MxdlError):
    """A data file is missing, truncated, corrupt or does not match its partner file."""


class DataNotFoundError(DataError):
    """The dataset's files are nowhere to be found and could not be downloaded.

    Raised only for "not there", never for a file that is there but corrupt: the demo may fall back
    to the embedded ``mnist-t10k`` on this error and on nothing else. ``searched`` lists the
    directories looked in; ``download_error`` says why a download failed (None: none was tried).
    """

    def __init__(self, message, *, searched=(), download_error=None):
        super().__init__(message)
        self.searched = list(searched)
        self.download_error = download_error


class DownloadError(DataNotFoundError):
    """A download failed before any data arrived intact (no network, timeout, HTTP error)."""


class ChecksumError(DataError):
    """A downloaded file's contents differ from the checksum table (a wrong or damaged file)."""


class ContextError(MxdlError):
    """A device (``cpu``/``gpu``) specification is malformed or names a device that is not there."""


class FileError(MxdlError):
    """A file or folder cannot be written or read; the message names the path and the system's reason."""


class DivergedError(MxdlError):
    """The cost became NaN or infinite during training (usually: the learning rate is too high)."""


def mxnet_reason(err):
    """The last line of an MXNetError (its message starts with a C++ "Traceback" header), at most
    300 characters; an error without a message gives its type's name."""
    text = str(err).strip()
    return text.splitlines()[-1].replace("MXNetError: ", "")[:300] if text else type(err).__name__
