"""Evaluate a trained classifier on labelled data: run it, measure it, draw what it got wrong.

The evaluate-only step of a practitioner's workflow (``scripts/evaluate.py``): accuracy and
per-class precision/recall (:mod:`mxdl.metrics`), the confusion matrix and the worst mistakes as
pictures (:mod:`mxdl.plots`)::

    evaluation = evaluate_net(net, X_test, y_test, classes)
    print(evaluation.format())
    write_evaluation(evaluation, X_test, y_test, "runs/eval")   # confusion.png, mistakes.png, ...
"""
import json
import os

from .files import atomic_write
from .metrics import evaluate_predictions, softmax
from .train import predict

NUM_MISTAKES = 30  # pictures in the worst-mistakes grid


def evaluate_net(net, X, y, classes, *, ctx=None, num_mistakes=NUM_MISTAKES):
    """An :class:`~mxdl.metrics.Evaluation` of ``net`` on inputs ``X`` and labels ``y``."""
    probabilities = softmax(predict(net, X, ctx=ctx))
    return evaluate_predictions(y, probabilities, classes, k=num_mistakes)


def evaluation_figures(evaluation, X, y):
    """``{name: figure}``: the confusion matrix, precision/recall per class and the worst mistakes."""
    from .plots import evaluation as eval_plots
    from .plots import training as plots

    worst = evaluation.mistakes
    return {
        "confusion": plots.plot_confusion(y, evaluation.y_pred, evaluation.classes),
        "precision_recall": eval_plots.plot_precision_recall(evaluation.rows()),
        "mistakes": eval_plots.plot_mistakes(X[worst], y[worst], evaluation.y_pred[worst],
                                             evaluation.confidence[worst], evaluation.classes),
    }


def write_evaluation(evaluation, X, y, out, figures=None):
    """Write ``evaluation.json``, ``confusion.png``, ``precision_recall.png`` and ``mistakes.png`` into
    ``out`` (atomically); return ``{name: path}``.  ``figures``: from :func:`evaluation_figures`."""
    from .plots import save_figure

    os.makedirs(out, exist_ok=True)
    figures = figures if figures is not None else evaluation_figures(evaluation, X, y)
    paths = {"evaluation": os.path.join(out, "evaluation.json")}
    with atomic_write(paths["evaluation"], "w") as f:
        f.write(json.dumps(evaluation.to_dict(), indent=1, allow_nan=True) + "\n")
    for name, fig in figures.items():
        paths[f"{name}_plot"] = save_figure(fig, os.path.join(out, f"{name}.png"))
    return paths
