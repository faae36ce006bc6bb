"""Your own pictures as MNIST-style inputs X, for predicting with a trained net.

Lesson: a trained net maps a new input X to y_hat; it only works if X looks like its training data.
MNIST digits are white strokes on a black background, 28x28, pixels in [0, 1]. So every picture is:
flattened onto white if it has transparency, turned grey, padded to a square with its background
colour (so the digit keeps its shape), resized to 28x28, scaled to [0, 1], and -- if it is mostly
light, i.e. dark ink on white paper -- inverted to white on black.
"""
import os

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import DataError
from .idx import IMAGE_SHAPE


def _read_grey(path):
    """The picture at ``path`` as a PIL greyscale image ("L"), transparency flattened onto white."""
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


def _to_mnist(grey):
    """A PIL greyscale image -> float32 (28, 28) in [0, 1], white ink on black."""
    pixels = np.asarray(grey, dtype=np.float32) / 255.0
    light = pixels.mean() > 0.5  # mostly light: dark ink on light paper -> invert below
    background = 255 if light else 0
    side = max(grey.size)
    square = ImageOps.pad(grey, (side, side), color=background) if grey.size[0] != grey.size[1] else grey
    small = square.resize(IMAGE_SHAPE[::-1], Image.Resampling.LANCZOS)
    X = np.asarray(small, dtype=np.float32) / 255.0
    return 1.0 - X if light else X


def load_images(paths):
    """Read PNG/JPEG pictures of any size as float32 X of shape (N, 1, 28, 28) in [0, 1].

    MNIST convention: a mostly light picture (mean > 0.5, e.g. a digit drawn in black on white) is
    inverted so that the digit is white on black like the training data. ``paths`` is one path or
    a list of them. Raises :class:`~mxdl.errors.DataError` naming a missing or unreadable file.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = list(paths)
    if not paths:
        raise DataError("no image files given")
    X = np.stack([_to_mnist(_read_grey(path)) for path in paths])
    return X[:, np.newaxis, :, :]
