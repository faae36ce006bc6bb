"""Your own pictures as MNIST-style inputs X, for predicting with a trained net.

Lesson: a trained net maps a new input X to y_hat; it only works if X looks like its training data.
MNIST digits are white strokes on a black background, 28x28, pixels in [0, 1], and were prepared the
same way for every digit: the digit was scaled to fit a 20x20 box (keeping its aspect ratio) and
placed in the 28x28 field so that its centre of mass is at the centre.  A logistic regression has one
weight per pixel, so a digit that is bigger, smaller or off-centre lands on the wrong weights.

So every picture is flattened onto white if it has transparency, turned grey, and -- if it is mostly
light, i.e. dark ink on white paper -- inverted to white on black.  Then, MNIST's way (the default):
the paper's grey level is subtracted, the picture is cropped to the ink, its longer side scaled to 20
pixels and the result centred by mass in 28x28.  With ``mnist_style=False`` the picture is only padded
to a square and resized to 28x28 (a digit drawn to fill the frame then comes out too big).
"""
import os

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import DataError
from .idx import IMAGE_SHAPE, check_regular_file

BOX = 20  # MNIST digits were scaled to fit a 20x20 box ...
CENTRE = (14.0, 14.0)  # ... with the centre of mass (row, column) here: the mean over real MNIST
INK = 0.1  # a pixel is ink if it is brighter than this fraction of the brightest pixel
MIN_CONTRAST = 0.1  # below this (as a fraction of white) a picture holds no digit, only paper


def _read_grey(path):
    """The picture at ``path`` as a PIL greyscale image ("L"), transparency flattened onto white."""
    if not os.path.lexists(path):
        raise DataError(f"image {path} does not exist")
    check_regular_file(path, "image")  # a FIFO would hang Image.open
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                image = image.convert("RGBA")
                white = Image.new("RGBA", image.size, (255, 255, 255, 255))
                image = Image.alpha_composite(white, image)
            return image.convert("L")
    except FileNotFoundError:
        raise DataError(f"image {path} does not exist") from None
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as err:
        raise DataError(f"cannot read image {path}: {err}; give a PNG or JPEG file") from None


def _is_light(grey):
    """Mostly light (mean > 0.5): dark ink on light paper, to be inverted to MNIST's white on black."""
    return np.asarray(grey, dtype=np.float32).mean() > 127.5


def _resized(grey):
    """A PIL greyscale image -> float32 (28, 28) in [0, 1], white ink on black: padded and resized only."""
    light = _is_light(grey)
    background = 255 if light else 0
    side = max(grey.size)
    square = ImageOps.pad(grey, (side, side), color=background) if grey.size[0] != grey.size[1] else grey
    small = square.resize(IMAGE_SHAPE[::-1], Image.Resampling.LANCZOS)
    X = np.asarray(small, dtype=np.float32) / 255.0
    return 1.0 - X if light else X


def _ink(grey, path):
    """The picture as float32 (height, width) ink: white on black, paper at 0, brightest stroke at 1."""
    pixels = np.asarray(grey, dtype=np.float32) / 255.0
    if _is_light(grey):
        pixels = 1.0 - pixels
    # Paper photographed is grey, not black: its level (the median -- most of a picture is paper)
    # is subtracted so that only the strokes count in the crop and the centre of mass.
    ink = np.clip(pixels - np.median(pixels), 0.0, None)
    if ink.max() <= MIN_CONTRAST:
        raise DataError(f"no digit found in image {path}: it is blank (no pixel differs from the "
                        f"background by more than {MIN_CONTRAST:.0%}); draw the digit darker or "
                        "give another picture")
    return ink / ink.max()


def _crop_to_ink(ink):
    """The smallest rectangle of ``ink`` (height, width) holding every pixel brighter than INK."""
    rows = np.flatnonzero((ink > INK).any(axis=1))
    cols = np.flatnonzero((ink > INK).any(axis=0))
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _fit_box(ink):
    """Scale ``ink`` so that its longer side is BOX pixels, keeping its aspect ratio (Lanczos)."""
    height, width = ink.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))  # PIL sizes are (w, h)
    image = Image.fromarray(np.ascontiguousarray(ink, dtype=np.float32))  # mode "F": 32-bit float
    small = np.asarray(image.resize(size, Image.Resampling.LANCZOS))
    small = np.clip(small, 0.0, None)  # Lanczos rings a little below zero next to strokes
    return small / small.max()


def _centre_by_mass(digit):
    """Paste ``digit`` (h, w <= BOX) into a black 28x28 field with its centre of mass at CENTRE."""
    height, width = digit.shape
    rows, cols = np.indices(digit.shape)
    mass = digit.sum()
    com = ((rows * digit).sum() / mass, (cols * digit).sum() / mass)
    # Integer offsets, clipped so the whole digit stays inside the field (never wrapped round).
    top = int(np.clip(round(CENTRE[0] - com[0]), 0, IMAGE_SHAPE[0] - height))
    left = int(np.clip(round(CENTRE[1] - com[1]), 0, IMAGE_SHAPE[1] - width))
    field = np.zeros(IMAGE_SHAPE, dtype=np.float32)
    field[top:top + height, left:left + width] = digit
    return field


def _mnist_style(grey, path):
    """A PIL greyscale image -> float32 (28, 28) in [0, 1] prepared as MNIST's digits were."""
    return _centre_by_mass(_fit_box(_crop_to_ink(_ink(grey, path))))


def _prepare(path, mnist_style):
    grey = _read_grey(path)
    return _mnist_style(grey, path) if mnist_style else _resized(grey)


def load_images(paths, mnist_style=True):
    """Read PNG/JPEG pictures of any size as float32 X of shape (N, 1, 28, 28) in [0, 1].

    MNIST convention: a mostly light picture (mean > 0.5, e.g. a digit drawn in black on white) is
    inverted so that the digit is white on black like the training data.  With ``mnist_style`` (the
    default) each digit is then cropped, scaled to fit 20x20 and centred by mass in 28x28, as MNIST's
    digits were; without it the picture is only padded to a square and resized.  ``paths`` is one
    path or a list of them.  Raises :class:`~mxdl.errors.DataError` naming a missing, unreadable or
    (with ``mnist_style``) blank file; :func:`load_each` reads the others despite a bad one.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = list(paths)
    if not paths:
        raise DataError("no image files given")
    X = np.stack([_prepare(path, mnist_style) for path in paths])
    return X[:, np.newaxis, :, :].astype(np.float32)


def load_each(paths, mnist_style=True):
    """``[(path, X or DataError), ...]``: each picture read as :func:`load_images` would, one by one.

    X has shape (1, 1, 28, 28); a picture that cannot be read gives its :class:`DataError` instead,
    so that one bad file does not stop the others from being classified.
    """
    results = []
    for path in paths:
        try:
            results.append((path, _prepare(path, mnist_style)[np.newaxis, np.newaxis].astype(np.float32)))
        except DataError as err:
            results.append((path, err))
    return results
