#!/usr/bin/env python
"""Strip the notebooks' outputs, or check that they are stripped: the committed notebooks carry no outputs.

    python notebooks/strip.py            # strip every notebooks/*.ipynb in place (after editing in Jupyter)
    python notebooks/strip.py --check    # exit 1 naming each notebook that is not clean (tests do this)

Clean means: no outputs, every ``execution_count`` null, no per-cell execution metadata, notebook
metadata reduced to the kernel (``python3``) and the language, written in nbformat's canonical JSON.
Outputs come from running the notebook (the test suite executes each one headless), never from git.
"""
import argparse
import sys
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# Cell metadata that running or viewing a notebook adds and that says nothing about its code.
VOLATILE_CELL_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")


def clean(nb):
    """Return ``nb`` (a NotebookNode) with outputs, execution counts and run metadata removed."""
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    return nb


def dumps(nb):
    """The notebook as the exact text that is committed (nbformat's JSON and a final newline)."""
    return nbformat.writes(nb, version=4) + "\n"


def is_clean(path):
    """True when the file at ``path`` is byte for byte what :func:`clean` would write."""
    text = Path(path).read_text(encoding="utf-8")
    return text == dumps(clean(nbformat.reads(text, as_version=4)))


def strip(path):
    """Clean the notebook at ``path`` in place (atomically: a temporary file, then rename)."""
    from mxdl.files import atomic_write

    nb = nbformat.read(path, as_version=4)
    with atomic_write(path, "w") as f:
        f.write(dumps(clean(nb)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: notebooks/*.ipynb)")
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if any is not clean")
    args = parser.parse_args(argv)
    paths = args.paths or sorted(NOTEBOOKS.glob("*.ipynb"))
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    dirty = [path for path in paths if not is_clean(path)]
    if args.check:
        for path in dirty:
            print(f"{path}: has outputs or run metadata; run: python notebooks/strip.py {path}",
                  file=sys.stderr)
        return 1 if dirty else 0
    for path in dirty:
        strip(path)
        print(f"stripped {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
