import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from pipeline.data import fonts
from pipeline.data.fonts import Jitter, available_fonts, render_bitmaps, render_digits

NONE = Jitter(0.0, 0.0, (1.0, 1.0), (0, 0), elastic=0.0)


def extents(bitmaps: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per bitmap: ink height, ink width, and the (start, end) margins of rows and columns."""
    margins = []
    for on in (bitmaps.any(2), bitmaps.any(1)):  # rows with ink, columns with ink
        first, last = on.argmax(1), on.shape[1] - 1 - on[:, ::-1].argmax(1)
        margins.append((last - first + 1, first, on.shape[1] - 1 - last))
    (height, top, bottom), (width, left, right) = margins
    return height, width, top, bottom, left, right


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # Two intra-op threads on a shared 2-core machine ran these tests 2-3x slower than one.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def sample():
    return render_digits(1000, seed=0)


def test_format_matches_optdigits(sample):
    images, labels, font_index = sample
    assert images.shape == (1000, 8, 8) and images.dtype == np.uint8
    assert images.max() == 16 and images.min() == 0
    assert labels.dtype == np.int64 and set(labels) == set(range(10))
    assert font_index.dtype == np.int64 and 0 <= font_index.min() and font_index.max() < len(available_fonts())


def test_labels_balanced(sample):
    assert (np.bincount(sample[1], minlength=10) == 100).all()
    counts = np.bincount(render_digits(23, seed=1)[1], minlength=10)
    assert counts.max() - counts.min() <= 1


def test_deterministic_and_chunking_free(sample, monkeypatch):
    again = render_digits(1000, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(sample, again))
    assert not np.array_equal(sample[0], render_digits(1000, seed=1)[0])
    monkeypatch.setattr(fonts, "CHUNK", 150)
    assert all(np.array_equal(a, b) for a, b in zip(sample, render_digits(1000, seed=0)))


def test_available_fonts_are_digit_fonts():
    paths = available_fonts()
    names = {p.name for p in paths}
    assert paths == sorted(paths) and all(p.is_file() for p in paths)
    assert {"DejaVuSans.ttf", "STIXGeneral.ttf", "cmr10.ttf"} <= names
    # These map '0'..'9' to no glyph, a placeholder, or symbols.
    assert not names & {"DejaVuSansDisplay.ttf", "STIXSizOneSymReg.ttf", "LastResortHE-Regular.ttf", "cmsy10.ttf", "cmex10.ttf"}


@pytest.mark.parametrize("font", available_fonts(), ids=lambda p: p.stem)
def test_every_digit_fills_the_box_centred_and_upright(font):
    bitmaps, labels, font_index = render_bitmaps(10, seed=0, jitter=NONE, fonts=[font])
    assert bitmaps.dtype == bool and (font_index == 0).all() and sorted(labels) == list(range(10))
    height, width, top, bottom, left, right = extents(bitmaps)
    assert (np.maximum(height, width) == 32).all()  # larger side touches both edges, aspect kept
    assert (abs(top - bottom) <= 1).all() and (abs(left - right) <= 1).all()
    # Not flipped or mirrored: the bar of a 7 is at the top, the 3 is open on the left.
    seven, three = bitmaps[labels == 7][0], bitmaps[labels == 3][0]
    assert seven[:8].sum() > seven[-8:].sum()
    assert three[:, 16:].sum() > three[:, :16].sum()


def test_aspect_jitter_changes_width_not_fill():
    narrow = Jitter(0.0, 0.0, (0.5, 0.5), (0, 0), elastic=0.0)
    font = [available_fonts()[0]]
    (h1, w1, *_), (h2, w2, *_) = (extents(render_bitmaps(10, 0, j, font)[0]) for j in (NONE, narrow))
    assert (h1 == 32).all() and (h2 == 32).all()
    assert np.allclose(w2, 0.5 * w1, atol=1.5)


def test_jittered_glyphs_fill_box_centred():
    bitmaps, _, _ = render_bitmaps(500, seed=2)
    height, width, top, bottom, left, right = extents(bitmaps)
    larger = np.maximum(height, width)
    assert larger.min() >= 31 and (larger == 32).mean() > 0.97
    assert (abs(top - bottom) <= 1).mean() > 0.97 and (abs(left - right) <= 1).mean() > 0.97


def test_stroke_changes_ink():
    ink = [render_digits(500, 3, Jitter(stroke=(s, s)))[0].mean() for s in (-1, 0, 1, 2)]
    assert ink == sorted(ink) and len(set(ink)) == 4


def test_classifier_trained_on_fonts_reads_real_digits():
    images, labels, _ = render_digits(2000, seed=0)
    with threadpool_limits(1):  # BLAS threads contending with torch's made this fit ~100x slower
        clf = LogisticRegression(C=0.1, max_iter=300).fit(images.reshape(len(images), -1) / 16, labels)
    real = load_digits()
    assert clf.score(real.data / 16, real.target) > 0.5  # chance is 0.1


def test_elastic_warp_changes_shapes_but_keeps_the_format():
    plain = render_bitmaps(200, 4, Jitter(elastic=0.0))[0]
    warped = render_bitmaps(200, 4, Jitter(elastic=0.15))[0]
    assert warped.shape == plain.shape and warped.dtype == bool
    assert (warped != plain).mean() > 0.02
    assert warped.any(axis=(1, 2)).all()
