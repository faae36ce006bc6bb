"""Executed notebooks for readers: docs/notebooks/<name>.html, rendered from the notebooks in git.

The committed notebooks carry no outputs; ``make notebooks`` (notebooks/render.py) executes each and
renders it with its figures into docs/notebooks/.  These tests check that every notebook has its page,
that each page was rendered from the notebook as it is now (the SHA-256 the page records), and that no
cell of it failed; and that the renderer itself executes and embeds figures.
"""
import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
DOCS = ROOT / "docs" / "notebooks"
STEMS = sorted(path.stem for path in NOTEBOOK_DIR.glob("*.ipynb"))


def _render_tool():
    spec = importlib.util.spec_from_file_location("render", NOTEBOOK_DIR / "render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("stem", STEMS)
def test_each_notebook_has_an_executed_page_rendered_from_its_current_source(stem):
    render = _render_tool()
    page = DOCS / f"{stem}.html"
    assert page.is_file(), f"docs/notebooks/{stem}.html is missing: run make notebooks"
    html = page.read_text(encoding="utf-8")
    assert render.rendered_hash(html) == render.source_hash(NOTEBOOK_DIR / f"{stem}.ipynb"), (
        f"docs/notebooks/{stem}.html was rendered from another version of the notebook: run "
        "make notebooks (or python notebooks/render.py {stem}) and commit the page")
    assert "data:image/png;base64," in html, "the page has no figures: was it executed?"
    assert "Traceback (most recent call last)" not in html


def test_no_page_without_its_notebook():
    assert sorted(path.stem for path in DOCS.glob("*.html")) == STEMS


def test_the_renderer_executes_and_embeds_figures(tmp_path):
    render = _render_tool()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A *tiny* notebook"),
                nbformat.v4.new_code_cell("%matplotlib inline\nfrom matplotlib.figure import Figure\n"
                                          "fig = Figure(figsize=(2, 2))\nfig.add_subplot().plot([0, 1])\n"
                                          "print('hello from the kernel')\nfig")]
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    page = render.render(path, tmp_path / "out", timeout=120)
    html = page.read_text(encoding="utf-8")
    assert page.name == "tiny.html"
    assert "hello from the kernel" in html and "data:image/png;base64," in html
    assert render.rendered_hash(html) == render.source_hash(path)
    assert "<em>tiny</em>" in html
