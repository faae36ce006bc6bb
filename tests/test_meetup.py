"""The meetup's numbers, honestly: a fresh run of the demo's exact settings, epoch by epoch."""
import dataclasses

import pytest
from matplotlib.figure import Figure

from mxdl.config import Config
from mxdl.meetup import MEETUP_FIRST_EPOCH, MEETUP_TEST_ACC, updates_to_reach
from mxdl.plots.meetup import plot_reach


@pytest.fixture(scope="module")
def reach():
    return updates_to_reach(0.75, max_epochs=8)


def test_it_stops_at_the_first_epoch_that_reaches_the_target(reach):
    assert reach.epoch is not None and reach.epoch == len(reach.test_acc)
    assert reach.test_acc[-1] >= 0.75 and all(acc < 0.75 for acc in reach.test_acc[:-1])
    assert reach.updates_per_epoch == 125  # ceil(8000 / 64)
    assert reach.updates == [125 * e for e in range(1, reach.epoch + 1)]
    assert reach.updates_needed == 125 * reach.epoch
    assert reach.mnist_epochs_needed == pytest.approx(125 * reach.epoch / 938)
    assert "first after epoch" in reach.summary()


def test_these_are_the_epochs_the_demo_command_prints(reach):
    from mxdl.demos.mnist_demo import run  # the same seed, data and order as scripts/mnist.py --preset meetup
    config = Config.from_preset("meetup", dataset="mnist-t10k", num_epochs=2, quiet=True)
    history = run(config, log=lambda line: None).history
    assert history.column("test_acc") == reach.test_acc[:2]
    assert history.column("cost") == pytest.approx(reach.cost[:2])


def test_a_fresh_net_is_nowhere_near_the_meetups_first_epoch(reach):
    # The meetup printed moving loss 0.42 and train accuracy 0.898 for its first epoch; a fresh
    # Normal(sigma=1) net's first epoch is far worse: the printout continued a trained net.
    assert reach.cost[0] > 3 * MEETUP_FIRST_EPOCH["moving_loss"]
    assert reach.train_acc[0] < MEETUP_FIRST_EPOCH["train_acc"] - 0.3
    assert reach.test_acc[0] < min(MEETUP_TEST_ACC) - 0.2
    assert reach.first_epoch_like_meetup() is None


def test_not_reached_is_reported(reach):
    short = dataclasses.replace(reach, target=0.99, epoch=None)
    assert short.updates_needed is None and "not reached" in short.summary()
    assert isinstance(plot_reach(reach), Figure)


@pytest.mark.slow
def test_the_numbers_the_readme_quotes():
    # README, "The meetup's numbers, honestly": 0.90 first after epoch 43 (5375 updates), and the
    # meetup's first-epoch moving loss and train accuracy first matched at epoch 44.
    from mxdl.meetup import SHIPPED_DIGITS_TO_090

    reach = updates_to_reach(0.90, max_epochs=44, stop=False)
    assert (reach.epoch, reach.updates_needed) == (43, 5375)
    assert SHIPPED_DIGITS_TO_090 == {"epochs": 43, "updates": 5375}
    assert reach.first_epoch_like_meetup() == 44
    assert reach.test_acc[7] > 0.80 > reach.test_acc[6]  # test accuracy passes 0.80 after 1000 updates


def test_the_context_line_says_what_the_run_trained_on(reach):
    from mxdl.meetup import SHIPPED_DIGITS_AT_1000_UPDATES, context_line, is_meetup_config
    from mxdl.train import EpochStats, History

    history = History(EpochStats(epoch, 1.0, 0.5, acc, 125, 0.1, 1.0)
                      for epoch, acc in enumerate(reach.test_acc, 1))
    line = context_line("mnist-t10k", history)
    assert "\n" not in line and f"{len(reach.test_acc)} epochs = {125 * len(reach.test_acc)} updates" in line
    assert "not full MNIST" in line and "5375 updates (43 epochs)" in line
    assert f"test accuracy {reach.test_acc[-1]:.4f}" in line
    assert "full MNIST" in context_line("mnist", history) and "fashion" in context_line("fashion-mnist", history)
    assert is_meetup_config(Config.from_preset("meetup")) and not is_meetup_config(Config())
    # The first-epoch expectation it quotes is the shipped digits' test accuracy after 1000 updates.
    full = updates_to_reach(0.99, max_epochs=8, stop=False)
    assert full.test_acc[7] == pytest.approx(SHIPPED_DIGITS_AT_1000_UPDATES, abs=5e-5)


def test_the_demo_command_ends_with_its_context_and_its_help_is_honest(capsys, tmp_path):
    from mxdl.commands import mnist as command

    params = tmp_path / "meetup.params"
    argv = ["--preset", "meetup", "--dataset", "mnist-t10k", "--quiet", "--epochs", "1"]
    assert command.main(argv + ["--save", str(params)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("in context: 1 epochs = 125 updates from a fresh Normal(sigma=1) net, test "
                           "accuracy 0.4590 on the 8000 shipped MNIST digits (mnist-t10k), not full MNIST")
    # A continued run is not a fresh one: no context line then; other settings get none either.
    assert command.main(argv + ["--load", str(params)]) == 0
    assert "in context" not in capsys.readouterr().out
    assert command.main(["--dataset", "mnist-t10k", "--quiet", "--epochs", "1"]) == 0
    assert "in context" not in capsys.readouterr().out
    help_text = " ".join(command.build_parser().format_help().split())
    assert "A fresh run does not print the meetup's 0.8953-0.9002" in help_text
