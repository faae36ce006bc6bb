"""How good is a trained classifier, class by class: accuracy, the confusion matrix, per-class
precision and recall, and the worst mistakes (the wrong answers it was surest of).

Accuracy says how often the net is right; the confusion matrix says *which* classes it mistakes for
which, precision (of the inputs labelled k, how many are k) and recall (of the k's, how many were
found) say it per class, and the worst mistakes are the pictures to look at first::

    report = evaluate_predictions(y, probabilities, classes)
    print(report.format())
"""
import dataclasses

import numpy as np


def confusion_matrix(y, y_pred, num_classes):
    """``counts[i, j]``: how many samples of true class i were predicted as class j."""
    y, y_pred = np.asarray(y).astype(int).ravel(), np.asarray(y_pred).astype(int).ravel()
    if len(y) != len(y_pred):
        raise ValueError(f"{len(y)} labels but {len(y_pred)} predictions")
    return np.bincount(y * num_classes + y_pred, minlength=num_classes ** 2).reshape(num_classes,
                                                                                     num_classes)


def precision_recall(counts):
    """Per-class ``(precision, recall, support)`` from a confusion matrix (rows true, columns predicted).

    A class never predicted has precision nan (no answer to be right about); a class absent from
    the data has recall nan.
    """
    counts = np.asarray(counts, dtype=float)
    right = np.diag(counts)
    predicted, support = counts.sum(axis=0), counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, right / predicted, np.nan)
        recall = np.where(support > 0, right / support, np.nan)
    return precision, recall, support.astype(int)


def softmax(y_hat):
    """Probabilities from scores ``y_hat`` (N, classes), without overflow."""
    y_hat = np.asarray(y_hat, dtype="float64")
    y_hat = y_hat - y_hat.max(axis=1, keepdims=True)
    probabilities = np.exp(y_hat)
    return probabilities / probabilities.sum(axis=1, keepdims=True)


def worst_mistakes(y, probabilities, k=20):
    """Indices of the ``k`` wrong predictions the net was surest of, surest first.

    ``probabilities`` is (N, classes); a prediction is its argmax, and a mistake's "sureness" is the
    probability the net gave its (wrong) label.
    """
    probabilities = np.asarray(probabilities)
    y = np.asarray(y).astype(int).ravel()
    y_pred = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(y_pred != y)
    confidence = probabilities[wrong, y_pred[wrong]]
    order = np.argsort(-confidence, kind="stable")
    return wrong[order[:k]]


@dataclasses.dataclass
class Evaluation:
    """A classifier's results on labelled data: accuracy, confusion, per-class precision and recall."""

    accuracy: float
    counts: np.ndarray  # confusion matrix, rows true class, columns predicted class
    precision: np.ndarray  # per class
    recall: np.ndarray  # per class
    support: np.ndarray  # samples of each class
    classes: list  # class names
    y_pred: np.ndarray  # the predicted labels
    confidence: np.ndarray  # the probability of each predicted label
    mistakes: np.ndarray  # indices of the worst mistakes, surest first

    def rows(self):
        """One dict per class: name, precision, recall, support."""
        return [{"class": str(name), "precision": float(p), "recall": float(r), "support": int(s)}
                for name, p, r, s in zip(self.classes, self.precision, self.recall, self.support)]

    def format(self):
        """A text table: accuracy, then precision, recall and support per class."""
        width = max(len("class"), *(len(str(c)) for c in self.classes))
        lines = [f"accuracy {self.accuracy:.4f} ({int(np.trace(self.counts))} of "
                 f"{int(self.counts.sum())} right)",
                 f"{'class':<{width}}  precision  recall  support"]
        for row in self.rows():
            lines.append(f"{row['class']:<{width}}  {row['precision']:9.4f}  {row['recall']:6.4f}  "
                         f"{row['support']:7d}")
        return "\n".join(lines)

    def to_dict(self):
        """A JSON-ready summary (no per-sample arrays except the worst mistakes' indices)."""
        return {"accuracy": self.accuracy, "confusion": self.counts.tolist(), "per_class": self.rows(),
                "worst_mistakes": self.mistakes.tolist()}


def evaluate_predictions(y, probabilities, classes, k=20):
    """An :class:`Evaluation` of class ``probabilities`` (N, classes) against the true labels ``y``."""
    probabilities = np.asarray(probabilities)
    y = np.asarray(y).astype(int).ravel()
    if probabilities.ndim != 2 or len(probabilities) != len(y):
        raise ValueError(f"probabilities must be (N, classes) for {len(y)} labels, got shape "
                         f"{probabilities.shape}")
    y_pred = probabilities.argmax(axis=1)
    counts = confusion_matrix(y, y_pred, len(classes))
    precision, recall, support = precision_recall(counts)
    accuracy = float(np.mean(y_pred == y)) if len(y) else float("nan")
    return Evaluation(accuracy, counts, precision, recall, support, list(classes), y_pred,
                      probabilities[np.arange(len(y)), y_pred], worst_mistakes(y, probabilities, k))
