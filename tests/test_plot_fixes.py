"""Plot defects found by trying mxdl as a new user would, each checked on the figure itself."""
import numpy as np

from mxdl import landscape
from mxdl.plots import study as study_plots
from mxdl.plots import toy_figures as toy_plots
from mxdl.toy import make_toy


def _legend_texts(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_a_flat_minimum_is_labelled_as_a_range_not_its_edge():
    data = make_toy()
    weights = np.linspace(-0.5, 4.5, 401)
    fig = toy_plots.plot_cost_curve(weights, landscape.cost_curve(*data.train, weights, loss="zero_one"))
    labels = _legend_texts(fig.axes[0])
    assert any(label.startswith("minimum: every w from") for label in labels), labels
    lo, hi = [float(v) for v in labels[-1].split("from ")[1].split(" to ")]
    assert lo < 2.0 < hi  # the true slope lies inside the flat stretch
    # A curve with one lowest point keeps the single label.
    fig = toy_plots.plot_cost_curve(weights, landscape.cost_curve(*data.train, weights))
    assert any(label.startswith("minimum at w = 2.0") for label in _legend_texts(fig.axes[0]))


def test_the_true_line_is_drawn_on_top_of_the_learned_one():
    data = make_toy()
    fig = toy_plots.plot_toy_data(*data.train, learned={"learned": 1.98})
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    learned = next(line for label, line in lines.items() if label.startswith("learned"))
    assert lines["y = 2x"].get_zorder() > learned.get_zorder()
    assert learned.get_linewidth() > lines["y = 2x"].get_linewidth()


def _bold(ax):
    """The bold numbers in a heatmap's cells (the picked learning rates)."""
    return [t.get_text() for t in ax.texts if t.get_fontweight() == "bold" and t.get_text() != "diverged"]


def test_heatmap_colour_bar_has_ticks_and_each_columns_pick_is_marked():
    costs = np.array([[0.30, 0.31, 0.35], [0.29, 0.30, 0.40], [np.nan, 0.5, 0.33]])
    fig = study_plots.plot_lr_batch_heatmap(costs, [0.1, 1, 10], [1, 8, None], num_train=100)
    heat, bar = fig.axes
    assert len(bar.get_yticks()) >= 3
    assert sorted(_bold(heat)) == ["0.29", "0.3", "0.33"]  # the lowest cost of each batch size
    fig = study_plots.plot_lr_batch_heatmap(costs, [0.1, 1, 10], [1, 8, None], num_train=100,
                                            picked=[0, 0, 0])
    assert sorted(_bold(fig.axes[0])) == ["0.3", "0.31", "0.35"]


class _Run:
    def __init__(self, label, costs):
        self.label, self.lr, self.diverged, self.costs = label, 0.05, False, costs
        self.test_accs, self.seconds = costs, list(range(len(costs)))


def test_coinciding_runs_stay_distinguishable():
    same = [1.0, 0.1, 0.05]
    fig = study_plots.plot_runs([_Run("1 (SGD)", same), _Run("16", same), _Run("240 (GD)", [1.0, 0.8, 0.6])])
    lines = fig.axes[0].get_lines()
    styles = {(line.get_marker(), line.get_linestyle()) for line in lines}
    assert len(styles) == 3
    sgd, mini = lines[0], lines[1]
    assert sgd.get_linewidth() > mini.get_linewidth() and sgd.get_zorder() < mini.get_zorder()
