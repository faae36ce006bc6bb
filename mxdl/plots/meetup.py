"""The meetup's numbers against a fresh run: test accuracy against updates, the talk's four marked.

Takes a :class:`mxdl.meetup.Reach` (and an optional ``ax``) and returns the figure.
"""
import numpy as np
from ..meetup import MEETUP_TEST_ACC, MNIST_UPDATES_PER_EPOCH
from . import new_axes


def plot_reach(reach, ax=None):
    """Test accuracy after each epoch of a fresh meetup run against the updates so far.

    The talk's four test accuracies are drawn where a fresh run on full MNIST would have printed
    them (after 938, 1876, 2814 and 3752 updates of batch 64), so the gap between them and the fresh
    curve is the training the meetup's net most likely had before its printout.
    """
    fig, ax = new_axes(ax, (7.5, 4.5))
    ax.plot(reach.updates, reach.test_acc, "o-", color="tab:blue", markersize=3,
            label=f"fresh run on {reach.dataset} (the demo's settings), after each epoch")
    talk_updates = MNIST_UPDATES_PER_EPOCH * np.arange(1, len(MEETUP_TEST_ACC) + 1)
    ax.plot(talk_updates, MEETUP_TEST_ACC, "*", color="tab:red", markersize=12,
            label="the meetup's printout: 0.8953, 0.8986, 0.8981, 0.9002\n"
                  f"(full MNIST, drawn after 1-4 epochs of {MNIST_UPDATES_PER_EPOCH} updates)")
    ax.axhline(reach.target, color="tab:gray", linestyle=":", linewidth=1)
    if reach.epoch is not None:
        ax.axvline(reach.updates_needed, color="tab:green", linestyle="--", linewidth=1.2,
                   label=f"test accuracy {reach.target} first reached: epoch {reach.epoch}, "
                         f"{reach.updates_needed} updates")
    ax.set(xlabel="updates w <- w - lr * gradient (batch 64)", ylabel="test accuracy",
           title="a fresh run of the demo vs the meetup's four numbers")
    ax.set_ylim(min(0.4, min(reach.test_acc) - 0.02), 1.0)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    return fig
