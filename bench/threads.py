#!/usr/bin/env python
"""One OpenMP thread or two spinning ones: time per update of each model and batch size, side by side.

    python bench/threads.py                                  # logreg and mlp, batch 1 to 512 (~5 min)
    python bench/threads.py --models mlp --batch-sizes 16,32,64 --rounds 3

The measurement behind ``mxdl.env.MODEL_DEFAULTS``: which runs ``scripts/mnist.py`` gives two
spinning OpenMP threads (``OMP_NUM_THREADS=2 OMP_WAIT_POLICY=ACTIVE``) instead of ``import mxdl``'s
one.  MXNet reads its thread settings once, at import, so every (model, batch size, setting) trains
in its own process: ``bench/step_profile.py``, whose wall time per update (the best of its timed
epochs) is what counts here.  The two settings alternate, ``--rounds`` times, so that drift on a
shared machine hits both alike; the best of the rounds is shown, with the ratio two / one and the
setting mxdl chooses for that run (``mxdl.env.model_defaults``).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(_HERE))

from mxdl import env as mxdl_env  # noqa: E402  (no MXNet: this process only starts others)
from train_speed import _csv, load_average, write_atomically  # noqa: E402  (bench/ is on sys.path: the script's own)

SETTINGS = {"1 thread": {"OMP_NUM_THREADS": "1"}, "2 spinning": dict(mxdl_env.TWO_SPINNING_THREADS)}


def time_per_update(model, batch_size, setting, args):
    """µs per update of ``model`` at ``batch_size`` in a fresh process with ``setting``'s threads."""
    # Exactly this setting: mxdl's general defaults with this setting's threads, and no choice by
    # env.configure (MXDL_ENV_DEFAULTS=0 switches it off; step_profile would otherwise call it).
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "KMP_"))}
    environ.update(mxdl_env.DEFAULTS, **SETTINGS[setting], MXDL_ENV_DEFAULTS="0")
    samples = max(args.min_samples, batch_size * args.updates)
    with tempfile.TemporaryDirectory() as directory:
        out = os.path.join(directory, "profile.jsonl")
        cmd = [sys.executable, os.path.join(_HERE, "step_profile.py"), "--models", model,
               "--batch-size", str(batch_size), "--samples", str(samples), "--repeats", str(args.repeats),
               "--profile-samples", str(batch_size), "--dataset", args.dataset, "--json", out]
        if args.data_dir:
            cmd += ["--data-dir", args.data_dir]
        subprocess.run(cmd, env=environ, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out) as f:
            result = json.loads(f.readline())
    return result["us_per_update_wall"], result["samples"], result["environment"]


def chosen(model, batch_size):
    """The setting mxdl-mnist chooses for this run on this machine."""
    return "2 spinning" if mxdl_env.model_defaults(model, batch_size) else "1 thread"


def measure(args, log):
    rows = []
    for model in args.models:
        for batch_size in args.batch_sizes:
            best, samples, seen = {}, None, {}
            for round_index in range(args.rounds):
                order = list(SETTINGS) if round_index % 2 == 0 else list(SETTINGS)[::-1]
                for setting in order:
                    us, samples, seen[setting] = time_per_update(model, batch_size, setting, args)
                    best[setting] = min(us, best.get(setting, float("inf")))
                    log(f"{model} batch {batch_size} {setting}: {us:.1f} us per update")
            rows.append({"model": model, "batch_size": batch_size, "samples": samples,
                         "us_one_thread": best["1 thread"], "us_two_spinning": best["2 spinning"],
                         "two_over_one": best["2 spinning"] / best["1 thread"],
                         "mxdl_chooses": chosen(model, batch_size),
                         "environments": seen})  # (the OMP_ and MXNET_ variables each process had)
    return rows


def format_table(rows):
    lines = ["| model | batch | samples | 1 thread, µs/update | 2 spinning, µs/update | 2 ÷ 1 | mxdl chooses |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['batch_size']} | {r['samples']:,} | {r['us_one_thread']:,.1f} | "
                     f"{r['us_two_spinning']:,.1f} | {r['two_over_one']:.2f} | {r['mxdl_chooses']} |")
    return "\n".join(lines)


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    arg = parser.add_argument
    arg("--models", type=_csv(str), default=["logreg", "mlp"], help="comma list")
    arg("--batch-sizes", type=_csv(int), default=[1, 16, 32, 64, 128, 256, 512], help="comma list")
    arg("--rounds", type=int, default=2, help="each setting runs once per round, alternating")
    arg("--repeats", type=int, default=3, help="timed epochs per process (the best counts)")
    arg("--updates", type=int, default=200, help="updates per epoch: batch size x UPDATES samples")
    arg("--min-samples", type=int, default=4000, help="at least this many samples (small batches)")
    arg("--dataset", default="fashion-mnist")
    arg("--data-dir", default=None)
    arg("--json", metavar="FILE", help="also write the rows as JSON lines to FILE")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    log(f"load average at start: {load_average()}; {os.cpu_count()} CPUs")
    rows = measure(args, log)
    print(format_table(rows))
    if args.json:
        write_atomically(args.json, "".join(json.dumps(r) + "\n" for r in rows))
    log(f"load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
