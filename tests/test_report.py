"""report.html: one self-contained page (no network, images embedded), rendered by headless Chromium."""
import base64
import html.parser
import io
import shutil
import subprocess

import numpy as np
import pytest

from mxdl.metrics import evaluate_predictions, softmax
from mxdl.report import environment_info, write_report
from mxdl.train import EpochStats, History

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class _Links(html.parser.HTMLParser):
    """Every URL-bearing attribute of the page: (tag, attribute, value)."""

    def __init__(self):
        super().__init__()
        self.urls, self.tables = [], 0

    def handle_starttag(self, tag, attrs):
        self.tables += tag == "table"
        self.urls += [(tag, name, value) for name, value in attrs if name in ("src", "href", "srcset")]


def _report(path):
    from mxdl.plots import training as plots
    from mxdl.plots.evaluation import plot_mistakes, plot_precision_recall

    history = History(EpochStats(e, 1.0 / e, 0.8 + e / 50, 0.85 + e / 60, 100, 1.5, 4000.0) for e in (1, 2, 3))
    rng = np.random.RandomState(0)
    y = rng.randint(0, 10, 300)
    scores = rng.normal(size=(300, 10))
    scores[np.arange(300), y] += 2
    evaluation = evaluate_predictions(y, softmax(scores), [str(k) for k in range(10)])
    X = rng.uniform(size=(300, 1, 28, 28))
    worst = evaluation.mistakes
    figures = {"accuracy": plots.plot_accuracy(history), "cost": plots.plot_cost(history),
               "confusion": plots.plot_confusion(y, evaluation.y_pred),
               "precision_recall": plot_precision_recall(evaluation.rows()),
               "mistakes": plot_mistakes(X[worst], y[worst], evaluation.y_pred[worst],
                                         evaluation.confidence[worst])}
    write_report(path, title="mnist: logreg <test>", config={"model": "logreg", "lr": 0.1},
                 data="synthetic digits", history=history, figures=figures, evaluation=evaluation,
                 timings={"training (s)": 4.5})
    return evaluation


def test_report_is_one_self_contained_page(tmp_path):
    path = tmp_path / "report.html"
    evaluation = _report(path)
    text = path.read_text(encoding="utf-8")
    links = _Links()
    links.feed(text)
    assert len(links.urls) == 5  # accuracy, cost, confusion, precision/recall, worst mistakes
    from PIL import Image
    for tag, name, value in links.urls:
        assert (tag, name) == ("img", "src") and value.startswith("data:image/png;base64,")
        image = Image.open(io.BytesIO(base64.b64decode(value.split(",", 1)[1])))
        assert image.format == "PNG" and image.size[0] > 200
    assert "http://" not in text and "https://" not in text and "@import" not in text
    assert "mnist: logreg &lt;test&gt;" in text  # escaped, not markup
    assert f"accuracy {evaluation.accuracy:.4f}" in text
    for heading in ("Config", "Data", "Per epoch", "Curves", "Evaluation", "Confusion matrix",
                    "Worst mistakes", "Timings", "Environment"):
        assert f"<h2>{heading}</h2>" in text
    assert environment_info()["mxnet"] in text
    assert links.tables == 5  # config, epochs, per class, timings, environment


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium_without_network(tmp_path):
    path = tmp_path / "report.html"
    _report(path)
    # A copy that records, once the page has loaded, how many of its images really decoded.
    probe = tmp_path / "probe.html"
    probe.write_text(path.read_text(encoding="utf-8").replace("</body>", (
        "<script>window.addEventListener('load', () => { const ok = [...document.images].filter("
        "i => i.complete && i.naturalWidth > 0).length; document.body.setAttribute("
        "'data-images-loaded', ok + '/' + document.images.length); });</script></body>")),
        encoding="utf-8")
    # No network: every host name fails to resolve, so anything fetched from outside would break.
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=10000"]
    dom = subprocess.run(flags + ["--dump-dom", probe.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert 'data-images-loaded="5/5"' in dom
    screenshot = tmp_path / "report.png"  # kept as the test's artefact (pytest keeps tmp dirs)
    subprocess.run(flags + ["--window-size=1200,2400", f"--screenshot={screenshot}", path.as_uri()],
                   capture_output=True, timeout=120, check=True)
    from PIL import Image
    pixels = np.asarray(Image.open(screenshot).convert("L"), dtype=float)
    assert pixels.shape == (2400, 1200)
    assert pixels.std() > 10 and (pixels < 128).mean() > 0.01  # text and plots, not a blank page
    print(f"screenshot: {screenshot}")
