"""The MNIST demo's ``--out`` folder: config, history, params, plots and report.html (``write_outputs``)."""
import os
import time

from ..checkpoint import CHECKPOINT_NAME
from ..plots import save_figure
from ..plots import training as plots
from ..utils import prepare_output_dir, save_params

NUM_SAMPLES = 20  # test images in samples.png (the demo showed ten)


def write_outputs(result, out):
    """Write config.json, history.csv/.json, ``<model>.params``, the PNG plots and report.html into ``out``.

    The plots: accuracy, cost and lr per epoch, 20 test samples with their predictions, the
    confusion matrix and the worst mistakes; report.html shows them all on one page with the
    config, the per-epoch table, per-class precision and recall, the timings and the environment.
    """
    from ..evaluation import evaluate_net, evaluation_figures
    from ..report import write_run_report

    config, net, history, dataset = result.config, result.net, result.history, result.dataset
    prepare_output_dir(out, "--out")
    paths = {name: os.path.join(out, filename) for name, filename in (
        ("config", "config.json"), ("history_csv", "history.csv"), ("history_json", "history.json"),
        ("out_params", f"{config.model}.params"), ("accuracy_plot", "accuracy.png"),
        ("cost_plot", "cost.png"), ("lr_plot", "lr.png"), ("samples_plot", "samples.png"),
        ("confusion_plot", "confusion.png"), ("mistakes_plot", "mistakes.png"))}
    config.to_json(paths["config"])
    history.to_csv(paths["history_csv"])
    history.to_json(paths["history_json"])
    save_params(net, paths["out_params"])
    started = time.time()
    X_test, y_test = dataset.test
    evaluation = evaluate_net(net, X_test, y_test, dataset.classes, ctx=result.ctxs)
    result.timings["evaluating the test data (s)"] = time.time() - started
    y_pred = evaluation.y_pred
    figures = {
        "accuracy": plots.plot_accuracy(history),
        "cost": plots.plot_cost(history),
        "lr": plots.plot_lr(history),
        "samples": plots.plot_samples(X_test[:NUM_SAMPLES], y_test[:NUM_SAMPLES], y_pred[:NUM_SAMPLES],
                                      dataset.classes),
        **evaluation_figures(evaluation, X_test, y_test),
    }
    for name in ("accuracy", "cost", "lr", "samples", "confusion", "mistakes"):
        save_figure(figures[name], paths[f"{name}_plot"])
    checkpoint = os.path.join(out, CHECKPOINT_NAME)
    if os.path.isfile(checkpoint):
        paths["checkpoint"] = checkpoint
    paths["report"] = write_run_report(result, os.path.join(out, "report.html"), timings=result.timings,
                                       evaluation=evaluation, figures=figures)
    return paths
