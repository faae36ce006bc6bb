"""mxdl.data.load_images: your own pictures prepared as MNIST's digits were, for predicting.

The key test renders real MNIST test digits big, dark on white and in a corner of a wider picture,
and checks that a net trained on MNIST reads them back as well as the originals -- and that it cannot
without the crop / 20x20 box / centre-of-mass preparation.
"""
import runpy
from pathlib import Path

import numpy as np
import pytest
from mxnet import gluon
from PIL import Image

import mxdl.data as data
from mxdl import cli
from mxdl.errors import DataError
from mxdl.models import get_model
from mxdl.train import fit, predict
from mxdl.utils import save_params, seed_everything

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "predict.py"
CANVAS = (200, 160)  # (width, height) of the pictures the digits are drawn into


@pytest.fixture(scope="module")
def mnist():
    return data.load_dataset("mnist-t10k")


@pytest.fixture(scope="module")
def net(mnist):
    """The demo's logreg trained briefly (lr 0.1, batch 64, 2 epochs) on the real digits."""
    seed_everything(0)
    net = get_model("logreg")
    fit(net, gluon.loss.SoftmaxCrossEntropyLoss(), mnist.train, num_epochs=2, batch_size=64, lr=0.1,
        seed=0)
    return net


@pytest.fixture(scope="module")
def originals(mnist, net):
    """The first test digit of each class 0..9 that ``net`` classifies correctly: X (10, 1, 28, 28)."""
    X, y = mnist.test
    y_pred = predict(net, X).argmax(axis=1)
    return X[[np.flatnonzero((y == k) & (y_pred == k))[0] for k in range(10)]]


def draw_off_centre(X, directory):
    """Each digit of X as a PNG, dark on white, scaled 3x/4x/5x into a corner of a 200x160 picture."""
    paths = []
    for k, x in enumerate(X[:, 0]):
        side = 28 * (3, 4, 5)[k % 3]
        corner = [(0, 0), (CANVAS[0] - side, 0), (0, CANVAS[1] - side),
                  (CANVAS[0] - side, CANVAS[1] - side)][k % 4]
        digit = Image.fromarray(np.round(255 * (1 - x)).astype(np.uint8))
        picture = Image.new("L", CANVAS, 255)
        picture.paste(digit.resize((side, side), Image.Resampling.BILINEAR), corner)
        paths.append(directory / f"digit{k}.png")
        picture.save(paths[-1])
    return paths


def centre_of_mass(x):
    rows, cols = np.indices(x.shape)
    return (rows * x).sum() / x.sum(), (cols * x).sum() / x.sum()


def ink_box(x):
    """(height, width) of the bounding box of the pixels > 0.1."""
    rows, cols = np.flatnonzero((x > 0.1).any(axis=1)), np.flatnonzero((x > 0.1).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


# ------------------------------------------------------------------------- MNIST's preparation

def test_off_centre_digits_are_read_like_the_originals(net, originals, tmp_path):
    paths = draw_off_centre(originals, tmp_path)
    X = data.load_images(paths)
    assert X.shape == (10, 1, 28, 28) and X.dtype == np.float32 and X.min() >= 0 and X.max() <= 1
    correct = (predict(net, X).argmax(axis=1) == np.arange(10)).sum()
    assert correct >= 9  # measured 10 of 10 (training seeds 0-4)
    # Only padded and resized, each digit is small and in a corner: the net cannot read them.
    correct_raw = (predict(net, data.load_images(paths, mnist_style=False)).argmax(axis=1)
                   == np.arange(10)).sum()
    assert correct_raw <= 5  # measured 0 of 10 (training seeds 0-4)


def test_prepared_digits_have_mnists_box_and_centre(originals, tmp_path):
    X = data.load_images(draw_off_centre(originals, tmp_path))
    for x in X[:, 0]:
        row, col = centre_of_mass(x)
        assert abs(row - 14) <= 1 and abs(col - 14) <= 1, (row, col)
        assert max(ink_box(x)) == 20, ink_box(x)
        assert x.max() == pytest.approx(1.0)  # the brightest stroke is white, as in MNIST
    # So each comes back close to the original it was drawn from (MNIST's own box and centre): off
    # by at most a one-pixel shift (the centre of mass rounded the other way), unlike the resized one.
    difference = np.abs(X - originals).mean(axis=(1, 2, 3))
    assert difference.max() < 0.08, difference  # measured 0.022-0.066 per pixel
    resized = data.load_images(draw_off_centre(originals, tmp_path), mnist_style=False)
    assert np.abs(resized - originals).mean(axis=(1, 2, 3)).min() > 0.1  # measured 0.121-0.293


def test_a_thin_tall_digit_keeps_its_aspect_ratio(tmp_path):
    pixels = np.full((300, 400), 255, dtype=np.uint8)  # a "1": a 200x20 bar on wide white paper
    pixels[40:240, 300:320] = 0
    Image.fromarray(pixels).save(tmp_path / "one.png")
    x = data.load_images(tmp_path / "one.png")[0, 0]
    assert ink_box(x) == (20, 2)
    assert centre_of_mass(x) == pytest.approx((14, 14), abs=1)


def test_grey_paper_is_background_not_ink(tmp_path):
    """A photo's paper is light grey: it must not count in the crop or the centre of mass."""
    pixels = np.full((120, 160), 200, dtype=np.uint8)  # grey paper, a dark bar at its right
    pixels[20:100, 120:140] = 40
    Image.fromarray(pixels).save(tmp_path / "photo.png")
    x = data.load_images(tmp_path / "photo.png")[0, 0]
    assert ink_box(x) == (20, 5) and x[0, 0] == 0
    assert centre_of_mass(x) == pytest.approx((14, 14), abs=1)


@pytest.mark.parametrize("colour", [0, 255, 180])
def test_a_blank_picture_is_a_data_error(tmp_path, colour):
    Image.new("L", (50, 40), colour).save(tmp_path / "blank.png")
    with pytest.raises(DataError, match=r"no digit found in image .*blank\.png: it is blank"):
        data.load_images([tmp_path / "blank.png"])
    assert data.load_images([tmp_path / "blank.png"], mnist_style=False).shape == (1, 1, 28, 28)


def test_predict_script_reads_off_centre_digits_unless_told_not_to(net, originals, tmp_path, capsys):
    params = tmp_path / "logreg.params"
    save_params(net, params)
    paths = [str(p) for p in draw_off_centre(originals, tmp_path)]
    main = runpy.run_path(str(SCRIPT))["main"]
    outputs = []
    for flags in ([], ["--no-center"]):
        assert cli.run(main, ["--params", str(params), *flags, *paths]) == 0
        out = capsys.readouterr().out.splitlines()
        outputs.append([line.split(": ")[1][0] for line in out])
    assert sum(label == str(k) for k, label in enumerate(outputs[0])) >= 9
    assert sum(label == str(k) for k, label in enumerate(outputs[1])) <= 5


# ----------------------------------------------------------------- file formats, colours, errors

def _stroke_picture(height, width, ink, paper):
    pixels = np.full((height, width), paper, dtype=np.uint8)
    pixels[height // 5: -height // 5, width // 2 - width // 10: width // 2 + width // 10] = ink
    return pixels


@pytest.mark.parametrize("mnist_style", [True, False])
@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_load_images_inverts_dark_ink_on_light_paper(tmp_path, suffix, mnist_style):
    path = tmp_path / ("digit" + suffix)
    Image.fromarray(_stroke_picture(90, 60, ink=0, paper=255)).convert("RGB").save(path)
    X = data.load_images([path], mnist_style=mnist_style)
    assert X.shape == (1, 1, 28, 28) and X.dtype == np.float32
    assert X.min() >= 0 and X.max() <= 1
    assert X[0, 0, 14, 14] > 0.8  # the stroke is white ...
    assert X[0, 0, 1, 1] < 0.05 and X.mean() < 0.3  # ... on black, like MNIST


@pytest.mark.parametrize("mnist_style", [True, False])
def test_load_images_keeps_white_ink_on_black(tmp_path, mnist_style):
    pixels = _stroke_picture(28, 28, ink=200, paper=0)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    Image.fromarray(255 - pixels).save(tmp_path / "b.png")
    X = data.load_images([tmp_path / "a.png", str(tmp_path / "b.png")], mnist_style=mnist_style)
    assert X.shape == (2, 1, 28, 28)
    np.testing.assert_allclose(X[1], X[0], atol=1e-6)  # the inverted copy comes back
    if not mnist_style:  # as it was: only scaled to [0, 1]
        np.testing.assert_allclose(X[0, 0], pixels / 255, atol=1e-6)


def _save_in_mode(pixels, mode, path):
    """Save ``pixels`` (dark ink on white, uint8) as a PNG of PIL ``mode``, transparency where natural."""
    grey = Image.fromarray(pixels)
    if mode == "RGBA":  # black ink whose opacity is its darkness, on transparent *black*
        rgba = np.zeros(pixels.shape + (4,), dtype=np.uint8)
        rgba[..., 3] = 255 - pixels
        Image.fromarray(rgba, "RGBA").save(path)
    elif mode == "LA":
        Image.merge("LA", (Image.new("L", grey.size, 0), Image.fromarray(255 - pixels))).save(path)
    elif mode == "P+transparency":  # a palette picture whose white entry is transparent
        palette = grey.convert("P")
        palette.save(path, transparency=palette.getpixel((0, 0)))
    else:
        grey.convert(mode).save(path)


@pytest.mark.parametrize("mode", ["L", "P", "RGB", "RGBA", "LA", "P+transparency"])
def test_png_modes_give_the_same_X(originals, tmp_path, mode):
    pixels = np.round(255 * (1 - originals[3, 0])).astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "reference.png")
    _save_in_mode(pixels, mode, tmp_path / f"digit-{mode}.png")
    with Image.open(tmp_path / f"digit-{mode}.png") as image:
        assert image.mode == mode.split("+")[0]
    X = data.load_images([tmp_path / "reference.png", tmp_path / f"digit-{mode}.png"])
    np.testing.assert_allclose(X[1], X[0], atol=0.02)
    assert X[0, 0].max() == pytest.approx(1.0) and X[0, 0, 0, 0] == 0


def test_load_images_flattens_transparency_onto_white(tmp_path):
    rgba = np.zeros((40, 40, 4), dtype=np.uint8)  # fully transparent black ...
    rgba[8:32, 18:22] = (0, 0, 0, 255)  # ... with an opaque black stroke
    Image.fromarray(rgba, "RGBA").save(tmp_path / "drawn.png")
    X = data.load_images(tmp_path / "drawn.png")
    assert X.shape == (1, 1, 28, 28) and X[0, 0, 14, 14] > 0.8 and X.mean() < 0.3


def test_load_images_unreadable_files_are_data_errors(tmp_path):
    with pytest.raises(DataError, match="missing.png does not exist"):
        data.load_images([tmp_path / "missing.png"])
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(DataError, match="cannot read image .*notes.png"):
        data.load_images([tmp_path / "notes.png"])
    with pytest.raises(DataError, match="no image files"):
        data.load_images([])
