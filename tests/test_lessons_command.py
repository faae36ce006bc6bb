"""mxdl-lessons: every lesson's numbers printed and its picture written, with small settings."""
import pytest

from mxdl.commands import lessons


@pytest.mark.slow
def test_lessons_prints_every_lesson_and_writes_its_pictures(tmp_path, capsys):
    out = tmp_path / "lessons"
    argv = ["--epochs", "3", "--num-train", "100", "--reach-epochs", "1", "--out", str(out)]
    assert lessons.main(argv) == 0
    text = capsys.readouterr().out
    for expected in ("y = w·x   best w = 2.0000",
                     "100 samples, batch size 5 (mini-batch SGD): 20 updates per epoch",
                     "SGD (batch 1)               4800 updates", "logistic regression: dividing line",
                     "backpropagation by hand vs autograd", "mlp wd=0.01 on 100 digits, 3 epochs",
                     "test accuracy 0.9 not reached in 1 epochs (125 updates)"):
        assert expected in text
    stems = ("model_families", "updates_per_epoch", "weight_paths", "linear_vs_logistic",
             "backprop_check", "overfitting", "meetup_reach")
    assert sorted(path.name for path in out.iterdir()) == sorted(f"{stem}.png" for stem in stems)
    assert all(path.stat().st_size > 10_000 for path in out.iterdir())


@pytest.mark.parametrize("argv", [["--epochs", "0"], ["--wd", "-1"], ["--num-train", "x"],
                                  ["--seed", "4294967296"]])  # (numpy's seeds end at 2**32 - 1)
def test_bad_flags_are_one_error_line(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        lessons.main(argv)
    assert exit_info.value.code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("mxdl-lessons: error:") or err[-1].startswith("error:")
