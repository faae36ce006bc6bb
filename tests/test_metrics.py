"""Evaluation metrics: confusion, per-class precision/recall (checked against a one-vs-rest count
and MXNet's own Accuracy metric) and the worst mistakes (surest wrong answers first)."""
import math
import os

import mxnet as mx
import numpy as np
import pytest

from mxdl.metrics import (confusion_matrix, evaluate_predictions, precision_recall, softmax,
                          worst_mistakes)


def _random_predictions(n=500, classes=10, seed=0):
    rng = np.random.RandomState(seed)
    y = rng.randint(0, classes, size=n)
    scores = rng.normal(size=(n, classes))
    scores[np.arange(n), y] += 1.5  # mostly right, often wrong
    return y, softmax(scores)


def test_precision_recall_match_one_vs_rest_counts_and_mxnet_accuracy():
    y, probabilities = _random_predictions()
    report = evaluate_predictions(y, probabilities, [str(k) for k in range(10)])
    y_pred = probabilities.argmax(axis=1)
    for k in range(10):
        tp = np.sum((y_pred == k) & (y == k))
        assert report.precision[k] == pytest.approx(tp / np.sum(y_pred == k))
        assert report.recall[k] == pytest.approx(tp / np.sum(y == k))
        assert report.support[k] == np.sum(y == k)
    metric = mx.metric.Accuracy()
    metric.update([mx.nd.array(y)], [mx.nd.array(probabilities)])
    assert report.accuracy == pytest.approx(metric.get()[1])
    assert 0.3 < report.accuracy < 0.95  # the fixture is neither trivial nor hopeless
    assert report.counts.sum() == len(y) and np.trace(report.counts) == np.sum(y_pred == y)


def test_class_never_predicted_has_nan_precision():
    counts = confusion_matrix([0, 0, 1, 2], [0, 0, 0, 2], 3)
    precision, recall, support = precision_recall(counts)
    assert math.isnan(precision[1]) and recall[1] == 0 and support.tolist() == [2, 1, 1]
    assert precision[0] == pytest.approx(2 / 3) and recall[0] == 1


def test_worst_mistakes_are_the_surest_wrong_answers_first():
    y = np.array([0, 1, 2, 0, 1])
    probabilities = np.array([[0.9, 0.05, 0.05],   # right
                              [0.6, 0.3, 0.1],     # wrong, 0.6 sure
                              [0.05, 0.9, 0.05],   # wrong, 0.9 sure
                              [0.2, 0.7, 0.1],     # wrong, 0.7 sure
                              [0.1, 0.8, 0.1]])    # right
    assert worst_mistakes(y, probabilities).tolist() == [2, 3, 1]
    assert worst_mistakes(y, probabilities, k=1).tolist() == [2]
    assert worst_mistakes(y[[0, 4]], probabilities[[0, 4]]).tolist() == []


def test_format_lists_every_class():
    y, probabilities = _random_predictions(n=200, classes=3)
    text = evaluate_predictions(y, probabilities, ["cat", "dog", "bird"]).format()
    assert text.splitlines()[0].startswith("accuracy ")
    assert [line.split()[0] for line in text.splitlines()[2:]] == ["cat", "dog", "bird"]


def test_mistakes_plot_and_precision_recall_plot(tmp_path):
    from mxdl.plots import save_figure
    from mxdl.plots.evaluation import plot_mistakes, plot_precision_recall

    rng = np.random.RandomState(0)
    X = rng.uniform(size=(6, 1, 28, 28)).astype("float32")
    fig = plot_mistakes(X, [1] * 6, [2] * 6, np.linspace(0.9, 0.4, 6))
    assert "6 mistakes" in fig.axes[0].get_title()
    assert save_figure(fig, tmp_path / "m.png") and (tmp_path / "m.png").stat().st_size > 1000
    assert "no mistakes" in plot_mistakes(X[:0], [], [], []).axes[0].get_title()
    y, probabilities = _random_predictions(n=100, classes=4)
    rows = evaluate_predictions(y, probabilities, list("abcd")).rows()
    assert len(plot_precision_recall(rows).axes[0].patches) == 8


def test_evaluate_net_writes_its_report_files(tmp_path):
    import json

    from mxnet import gluon

    from conftest import synthetic_digits
    from mxdl.evaluation import evaluate_net, write_evaluation
    from mxdl.models import get_model
    from mxdl.train import fit, predict

    images, labels = synthetic_digits(300, seed=0)
    X, y = images[:, None].astype("float32") / 255, labels.astype("float32")
    net = get_model("logreg")
    fit(net, gluon.loss.SoftmaxCrossEntropyLoss(), (X[:200], y[:200]), num_epochs=1, batch_size=32,
        lr=0.1, seed=0)
    classes = [str(k) for k in range(10)]
    evaluation = evaluate_net(net, X[200:], y[200:], classes, num_mistakes=5)
    assert evaluation.accuracy == pytest.approx(np.mean(predict(net, X[200:]).argmax(1) == y[200:]))
    paths = write_evaluation(evaluation, X[200:], y[200:], tmp_path / "eval")
    assert sorted(os.path.basename(p) for p in paths.values()) == [
        "confusion.png", "evaluation.json", "mistakes.png", "precision_recall.png"]
    saved = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    assert saved["accuracy"] == evaluation.accuracy and len(saved["per_class"]) == 10
    assert saved["worst_mistakes"] == evaluation.mistakes.tolist() and len(saved["worst_mistakes"]) <= 5
