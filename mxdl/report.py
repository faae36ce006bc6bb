"""A run's report: one self-contained HTML page to open and read, instead of a folder of files.

``report.html`` holds the config, where the data came from, the per-epoch table, the curves, the
confusion matrix, per-class precision and recall, the worst mistakes, the timings and the
environment (Python, MXNet, numpy, the machine).  Pictures are PNGs embedded as base64 ``data:``
URIs and the style sheet is inline: the page loads nothing from anywhere, so it can be mailed,
archived or opened offline::

    write_report("runs/mnist/report.html", title="mnist: logreg", config=config.to_dict(),
                 data="MNIST (60000 train, 10000 test) from ~/.mxnet/datasets/mnist",
                 history=history, figures={"accuracy": fig1, "cost": fig2}, evaluation=evaluation)
"""
import base64
import dataclasses
import datetime
import html
import io
import math
import os
import platform
import sys

from .files import atomic_write

_STYLE = """
body { font-family: sans-serif; margin: 1.5em auto; padding: 0 1.5em; max-width: 72em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
td.key:nth-child(odd) { color: #555; }
th { background: #f2f2f2; } td.key, th.key { text-align: left; font-family: monospace; }
figure { display: inline-block; margin: 0.5em 1em 0.5em 0; vertical-align: top; }
figcaption { font-size: 0.85em; color: #555; }
img { max-width: 100%; border: 1px solid #ddd; }
.summary { font-size: 1.1em; }
"""


# Figures with a section of their own, in this order: name -> heading.
_SECTIONS = {"confusion": "Confusion matrix", "precision_recall": "Precision and recall per class",
             "mistakes": "Worst mistakes", "samples": "Test samples and predictions"}


def figure_png(fig, dpi=100):
    """A matplotlib figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def environment_info():
    """What the run ran on: Python, MXNet, numpy, the OS and CPU, and MXNet's environment variables."""
    import mxnet as mx
    import numpy as np

    info = {"python": sys.version.split()[0], "mxnet": mx.__version__, "numpy": np.__version__,
            "platform": platform.platform(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "gpus": _num_gpus(mx),
            "date (UTC)": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")}
    for name in sorted(os.environ):
        if name.startswith(("MXNET_", "OMP_")):
            info[name] = os.environ[name]
    return info


def _num_gpus(mx):
    try:
        return mx.context.num_gpus()
    except mx.base.MXNetError:  # a CPU build
        return 0


def _cell(value):
    if isinstance(value, float):
        if math.isnan(value):
            return "&ndash;"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}" if 0 < abs(value) < 0.001 else f"{value:.4f}"
    return html.escape(str(value))


def _key_value_table(values, columns=1):
    """Settings as given (``0.1``, not ``0.1000``): ``columns`` key-value pairs per row."""
    cells = [f"<td class='key'>{html.escape(str(k))}</td><td class='key'>{html.escape(str(v))}</td>"
             for k, v in values.items()]
    rows = "".join("<tr>" + "".join(cells[i:i + columns]) + "</tr>" for i in range(0, len(cells), columns))
    return f"<table>{rows}</table>"


def _rows_table(rows):
    """A table of dicts (one per row), columns in the first row's order."""
    if not rows:
        return "<p>(none)</p>"
    columns = list(rows[0])
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(row.get(c))}</td>" for c in columns) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _as_dicts(history):
    return [dataclasses.asdict(s) if dataclasses.is_dataclass(s) else dict(s) for s in history]


def _image(name, png):
    if not isinstance(png, (bytes, bytearray)):
        png = figure_png(png)
    data = base64.b64encode(png).decode("ascii")
    return (f"<figure><img alt='{html.escape(name)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{html.escape(name)}</figcaption></figure>")


def render_report(*, title, config, data=None, history=(), figures=None, evaluation=None,
                  timings=None, environment=None, notes=()):
    """The report as an HTML string (see :func:`write_report` for the arguments)."""
    history = _as_dicts(history)
    figures = dict(figures or {})
    parts = [f"<h1>{html.escape(title)}</h1>"]
    summary = []
    if history:
        last = history[-1]
        summary.append(f"{len(history)} epoch(s); last epoch: cost {_cell(last.get('cost'))}, "
                       f"train accuracy {_cell(last.get('train_acc'))}, "
                       f"test accuracy {_cell(last.get('test_acc'))}")
    if evaluation is not None:
        summary.append(f"evaluation accuracy {evaluation.accuracy:.4f} on "
                       f"{int(evaluation.counts.sum())} test samples")
    parts += [f"<p class='summary'>{html.escape(line)}</p>" for line in summary]
    parts += [f"<p>{html.escape(note)}</p>" for note in notes]
    parts.append("<h2>Config</h2>" + _key_value_table(config, columns=3))
    if data:
        parts.append(f"<h2>Data</h2><p>{html.escape(str(data))}</p>")
    parts.append("<h2>Per epoch</h2>" + _rows_table(history))
    curves = [name for name in figures if name in ("accuracy", "cost", "lr")]
    if curves:
        parts.append("<h2>Curves</h2>" + "".join(_image(name, figures.pop(name)) for name in curves))
    if evaluation is not None:
        parts.append("<h2>Evaluation</h2>" + f"<p>accuracy {evaluation.accuracy:.4f} "
                     f"({int(sum(evaluation.counts[i][i] for i in range(len(evaluation.counts))))} of "
                     f"{int(evaluation.counts.sum())} right)</p>" + _rows_table(evaluation.rows()))
    for name, heading in _SECTIONS.items():
        if name in figures:
            parts.append(f"<h2>{heading}</h2>" + _image(name, figures.pop(name)))
    if figures:
        parts.append("<h2>More figures</h2>" + "".join(_image(n, png) for n, png in figures.items()))
    if timings:
        parts.append("<h2>Timings</h2>" + _key_value_table(timings))
    parts.append("<h2>Environment</h2>" + _key_value_table(environment or environment_info()))
    body = "\n".join(parts)
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>\n"
            f"<body>\n{body}\n</body></html>\n")


def write_report(path, *, title, config, data=None, history=(), figures=None, evaluation=None,
                 timings=None, environment=None, notes=()):
    """Write the run's report to ``path`` (atomically) and return ``path``.

    ``config`` and ``timings`` are dicts; ``data`` a sentence on the data's source; ``history`` a
    list of per-epoch stats (dataclasses or dicts); ``figures`` maps a name to a matplotlib figure
    or PNG bytes (``accuracy``, ``cost`` and ``lr`` go under Curves; ``confusion``,
    ``precision_recall``, ``mistakes`` and ``samples`` get their own section; any other name goes
    last); ``evaluation`` a :class:`mxdl.metrics.Evaluation`; ``environment`` defaults to
    :func:`environment_info`.
    """
    text = render_report(title=title, config=config, data=data, history=history, figures=figures,
                         evaluation=evaluation, timings=timings, environment=environment, notes=notes)
    with atomic_write(path, "w") as f:
        f.write(text)
    return path


def write_run_report(result, path, *, timings=None, evaluation=None, figures=None, notes=()):
    """Write the report of a training run (a :class:`mxdl.demos.mnist_demo.Result`) to ``path``.

    Evaluates the trained net on the test data (unless ``evaluation`` is given) and draws what
    ``figures`` (name -> figure) does not already hold: the curves, the confusion matrix,
    precision/recall per class, the worst mistakes and the first test samples.
    """
    from .evaluation import evaluate_net, evaluation_figures
    from .plots import training as plots

    config, history, dataset = result.config, result.history, result.dataset
    X_test, y_test = dataset.test
    if evaluation is None:
        evaluation = evaluate_net(result.net, X_test, y_test, dataset.classes, ctx=result.ctxs)
    drawn = dict(figures or {})
    if len(history):
        drawn.setdefault("accuracy", plots.plot_accuracy(history))
        drawn.setdefault("cost", plots.plot_cost(history))
        if "lr" not in drawn and "lr" in getattr(history, "fields", ()):
            drawn["lr"] = plots.plot_lr(history)
    if not {"confusion", "precision_recall", "mistakes"} <= set(drawn):
        for name, fig in evaluation_figures(evaluation, X_test, y_test).items():
            drawn.setdefault(name, fig)
    if "samples" not in drawn:
        first = slice(0, min(20, len(X_test)))
        drawn["samples"] = plots.plot_samples(X_test[first], y_test[first], evaluation.y_pred[first],
                                              dataset.classes)
    config_dict = config.to_dict() if hasattr(config, "to_dict") else dict(config)
    title = f"mxdl run: {config_dict.get('model', 'model')} on {getattr(dataset, 'name', 'data')}"
    return write_report(path, title=title, config=config_dict, data=str(dataset), history=history,
                        figures=drawn, evaluation=evaluation, timings=timings, notes=notes)
