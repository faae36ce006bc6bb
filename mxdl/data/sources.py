"""Where each dataset's IDX files are looked for, in order, and what to say when they are nowhere.

Lesson: explicit data loading that fails helpfully. The search order is

1. ``data_dir`` -- the directory you named (the scripts' ``--data-dir DIR``);
2. MXNet's cache ``$MXNET_HOME/datasets/<name>`` (default ``~/.mxnet/datasets/<name>``), the
   directory ``mxnet.gluon.data.vision.MNIST`` / ``FashionMNIST`` download into;
3. system-wide copies: Debian's ``/usr/share/datasets/fashion-mnist`` (``dataset-fashion-mnist``);
   and for ``mnist-t10k`` the copy shipped inside mxdl;
4. a download from MXNet's Gluon mirror into the cache (see :mod:`mxdl.data.download`).

A directory counts only if it holds every file the dataset needs, each raw or ``.gz``.
"""
import dataclasses
import importlib.resources
import os
import platform
from pathlib import Path

from ..errors import DataError, DataNotFoundError, DownloadError
from .checksums import expected_sha256
from .download import download_file, mirror_url

# The roles of the four standard files and their standard names.
FILE_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
ALL_ROLES = tuple(FILE_NAMES)


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """What mxdl knows about one dataset: its files, where to look, how to download it."""

    name: str
    title: str                        # for messages: "MNIST"
    classes: tuple                    # the 10 class names, index = label
    roles: tuple = ALL_ROLES          # which of FILE_NAMES it needs
    system_dirs: tuple = ()           # read-only places searched after the cache: ((path, what), ...)
    mirror: str = None                # namespace on MXNet's Gluon mirror; None: not downloadable
    use_cache: bool = True            # search $MXNET_HOME/datasets/<name>
    embedded: bool = False            # shipped inside mxdl (mxdl/data/embedded/<name>)
    install_hint: str = None          # an extra way to get it, for the not-found message


DIGITS = tuple(str(d) for d in range(10))
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")

SPECS = {
    "mnist": DatasetSpec(
        name="mnist", title="MNIST", classes=DIGITS, mirror="mnist"),
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist", title="Fashion-MNIST", classes=FASHION_CLASSES, mirror="fashion-mnist",
        system_dirs=((Path("/usr/share/datasets/fashion-mnist"), "Debian's dataset-fashion-mnist"),),
        install_hint="install Debian's package (apt-get install dataset-fashion-mnist)"),
    "mnist-t10k": DatasetSpec(
        name="mnist-t10k", title="mnist-t10k (the MNIST test set)", classes=DIGITS,
        roles=("test_images", "test_labels"), use_cache=False, embedded=True),
}
DATASETS = tuple(SPECS)


def get_spec(name):
    """The :class:`DatasetSpec` of dataset ``name``; a DataError listing the choices if unknown."""
    try:
        return SPECS[name]
    except (KeyError, TypeError):
        raise DataError(f"unknown dataset {name!r}: choose one of {', '.join(DATASETS)}") from None


def mxnet_home():
    """``$MXNET_HOME``, else MXNet's default (``~/.mxnet``; ``%APPDATA%\\mxnet`` on Windows).

    The same rule as ``mxnet.base.data_dir()``, read at call time so that a changed environment counts.
    """
    home = os.environ.get("MXNET_HOME")
    if home:
        return Path(home).expanduser()
    if platform.system() == "Windows":
        return Path(os.environ.get("APPDATA", "~")).expanduser() / "mxnet"
    return Path.home() / ".mxnet"


def cache_dir(name):
    """MXNet's cache directory for dataset ``name``: ``$MXNET_HOME/datasets/<name>``."""
    return mxnet_home() / "datasets" / name


def embedded_dir(name):
    """The directory of a dataset shipped inside mxdl (package data ``mxdl/data/embedded/<name>``)."""
    return importlib.resources.files("mxdl.data") / "embedded" / name


def search_dirs(name, data_dir=None):
    """The directories searched for dataset ``name``, in order, as ``[(directory, what), ...]``."""
    spec = get_spec(name)
    places = []
    if data_dir is not None:
        places.append((Path(data_dir).expanduser(), "data_dir / --data-dir"))
    if spec.use_cache:
        places.append((cache_dir(name), "MXNet's cache, $MXNET_HOME/datasets/" + name))
    places.extend(spec.system_dirs)
    if spec.embedded:
        places.append((embedded_dir(name), "shipped with mxdl"))
    return places


def files_in(directory, roles=ALL_ROLES):
    """``{role: path}`` if ``directory`` holds every file of ``roles`` (raw or .gz), else None.

    The raw file is preferred when both are there (no need to gunzip).
    """
    found = {}
    for role in roles:
        for candidate in (FILE_NAMES[role], FILE_NAMES[role] + ".gz"):
            path = directory / candidate
            if path.is_file():
                found[role] = path
                break
        else:
            return None
    return found


def locate(name, data_dir=None, download=False, progress=True):
    """Find (or, with ``download=True``, download) dataset ``name``'s files.

    A ``data_dir`` that is given must hold the files: another copy is then never used silently, nor
    is one downloaded (the error names the other copy, if there is one).

    Returns ``(files, where)``: ``{role: path}`` and a human-readable description of the place.
    Raises :class:`DataNotFoundError` with the full list of places searched and ways to get the files.
    """
    spec = get_spec(name)
    places = search_dirs(name, data_dir)
    searched = [directory for directory, _ in places]
    # The first place that has them all (the search stops there).
    found = next(((directory, what, files) for directory, what in places
                  for files in [files_in(directory, spec.roles)] if files is not None), None)
    if data_dir is not None and (found is None or found[0] != places[0][0]):
        # A directory you named that lacks the files is your mistake to hear about: never silently
        # read another copy (or download one) instead.
        message = not_found_message(spec, places[:1] if found else places, named=True)
        if found:
            message += (f". Another copy is in {found[0]} ({found[1]}): pass --data-dir "
                        f"{found[0]} or leave --data-dir out to use it")
        raise DataNotFoundError(message, searched=searched)
    if found:
        directory, what, files = found
        return files, f"{directory} ({what})"
    if not download or spec.mirror is None:
        raise DataNotFoundError(not_found_message(spec, places), searched=searched)
    try:
        return _download(spec, progress)
    except DownloadError as err:
        raise DataNotFoundError(not_found_message(spec, places, download_error=str(err)),
                                searched=searched, download_error=str(err)) from None


def _download(spec, progress):
    """Download the files of ``spec`` that are missing from the cache; return ``({role: path}, where)``."""
    directory = cache_dir(spec.name)
    for role in spec.roles:
        if files_in(directory, (role,)) is None:
            filename = FILE_NAMES[role] + ".gz"
            download_file(mirror_url(spec.mirror, filename), directory / filename,
                          sha256=expected_sha256(spec.name, filename), progress=progress)
    where = f"{directory} (MXNet's cache; downloaded from {mirror_url(spec.mirror, '')})"
    return files_in(directory, spec.roles), where


def _missing(directory, roles):
    """For a directory that exists but lacks some files: "; it lacks a, b" (else "")."""
    if not directory.is_dir():
        return ""
    lacking = [FILE_NAMES[role] for role in roles if files_in(directory, (role,)) is None]
    return f"; it lacks {', '.join(lacking)}"


def not_found_message(spec, places, download_error=None, named=False):
    """One line: which files were expected where, why no download, and every way to get them.

    ``named``: ``places`` starts with the directory the user named (``--data-dir``).
    """
    needed = ", ".join(FILE_NAMES[role] for role in spec.roles)
    searched = ", ".join(f"{directory} ({what}{_missing(directory, spec.roles)})"
                         for directory, what in places)
    message = (f"{spec.title} not found: need the files {needed} (each raw or .gz) together in "
               f"one of: {searched}")
    if named and len(places) == 1:
        return (f"{spec.title} not found in the directory you named: need the files {needed} (each "
                f"raw or .gz) together in {searched}")
    if download_error:
        message += f"; {download_error}"
    ways = ["pass --data-dir DIR (data_dir=DIR) naming a directory that holds them"]
    if spec.use_cache:
        ways.append(f"copy them into {cache_dir(spec.name)}")
    if spec.install_hint:
        ways.append(spec.install_hint)
    if spec.mirror:
        ways.append(f"run once with network access to download them from {mirror_url(spec.mirror, '')}")
    if spec.name != "mnist-t10k":
        ways.append("or use --dataset mnist-t10k, the real MNIST test set shipped with mxdl "
                    "(8000 train / 2000 test images), which needs no files")
    return message + ". To get them: " + ", ".join(ways)


def find_files(name, data_dir=None):
    """``{role: path}`` of dataset ``name``'s files, found without downloading.

    Roles are ``train_images``, ``train_labels``, ``test_images``, ``test_labels`` (``mnist-t10k``
    has only the two ``test_*`` files). Raises :class:`DataNotFoundError` listing the places searched.
    """
    files, _ = locate(name, data_dir, download=False)
    return files
