#!/usr/bin/env python
"""Execute the notebooks and render them, outputs and pictures included, as HTML into docs/notebooks/.

    python notebooks/render.py                 # every notebooks/*.ipynb -> docs/notebooks/<name>.html
    python notebooks/render.py 04_mnist_demo   # just one (a stem or a path)

The notebooks in git carry no outputs (see strip.py), so a reader on a code host would see no
figures; these HTML files are the executed versions for readers (``make notebooks``).  Each notebook
runs top to bottom with its default settings in a fresh ``python3`` kernel, from the notebooks folder.
Each HTML file records the SHA-256 of the notebook it was rendered from
(``<meta name="mxdl-notebook-sha256" ...>``), and the test suite checks that it matches the notebook
in git: edit a notebook, run ``make notebooks``, commit both.
"""
import argparse
import hashlib
import sys
import time
from pathlib import Path

import nbclient
import nbformat

NOTEBOOKS = Path(__file__).resolve().parent
DOCS = NOTEBOOKS.parent / "docs" / "notebooks"
META = "mxdl-notebook-sha256"
CELL_TIMEOUT = 1800  # seconds; full settings, a slow machine


def source_hash(path):
    """SHA-256 of the notebook file as committed (stripped)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def rendered_hash(html):
    """The notebook hash recorded in rendered HTML text, or None."""
    marker = f'<meta name="{META}" content="'
    start = html.find(marker)
    if start < 0:
        return None
    start += len(marker)
    return html[start:html.index('"', start)]


def execute(path, timeout=CELL_TIMEOUT):
    """Run the notebook at ``path`` in a fresh kernel (cwd: its folder); return the executed notebook."""
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    return nb


def to_html(nb, notebook_hash):
    """The executed notebook as one self-contained HTML page (figures embedded), tagged with its hash."""
    from nbconvert import HTMLExporter  # the docs/test extra: pip install -e '.[test]'

    html, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    tag = f'<meta name="{META}" content="{notebook_hash}">'
    return html.replace("<head>", "<head>\n" + tag, 1)


def render(path, out_dir=DOCS, timeout=CELL_TIMEOUT):
    """Execute notebook ``path`` and write ``out_dir/<stem>.html`` atomically; return its path."""
    from mxdl.files import atomic_write

    path = Path(path)
    html = to_html(execute(path, timeout), source_hash(path))
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / (path.stem + ".html")
    with atomic_write(target, "w") as f:
        f.write(html)
    return target


def _resolve(name):
    path = Path(name)
    if path.suffix != ".ipynb":
        path = NOTEBOOKS / f"{name}.ipynb"
    if not path.is_file():
        raise SystemExit(f"error: no notebook {name} (looked for {path})")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="stems or paths (default: notebooks/*.ipynb)")
    parser.add_argument("--out", type=Path, default=DOCS, help=f"output folder (default: {DOCS})")
    args = parser.parse_args(argv)
    paths = [_resolve(name) for name in args.notebooks] or sorted(NOTEBOOKS.glob("*.ipynb"))
    for path in paths:
        start = time.time()
        try:
            target = render(path, args.out)
        except nbclient.exceptions.CellExecutionError as err:
            print(f"error: {path.name} failed while executing: {str(err).splitlines()[0]}", file=sys.stderr)
            return 1
        print(f"{path.name} -> {target} ({time.time() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
