#!/usr/bin/env python
"""How fast mxdl trains the talk's nets, next to the meetup notebook's pipeline and to PyTorch.

    python bench/train_speed.py                         # the full run: 60k Fashion-MNIST (~25 min)
    python bench/train_speed.py --quick                 # smoke test: a small subset, one epoch
    python bench/train_speed.py --dataset mnist --data-dir ~/mnist

For each model (logreg, mlp, lenet) and batch size (64, 256) it trains, in this order and rotated
every round so that drift on a shared machine hits all of them alike:

* ``mxdl``    -- mxdl's default path, ``mxdl.demos.mnist_demo.run`` exactly as ``scripts/mnist.py`` calls it;
* ``meetup``  -- the meetup notebook's pipeline, written faithfully (``bench/meetup_baseline.py``);
* ``torch``   -- the same nets in PyTorch on the CPU with its default threads, when torch is
  importable (``bench/torch_baseline.py``), and ``torch-1t`` (one thread) for the dense nets;
* ``torch-lean`` -- batch 1 only: PyTorch's leanest loop on one thread (no shuffle, no loss kept),
  its fastest at batch 1 and the strictest reference for the talk's SGD;
* ``mxdl-conv`` -- LeNet only: mxdl's path with ``MXNET_ENGINE_TYPE=NaiveEngine OMP_NUM_THREADS=2``,
  the opt-in settings for conv nets that bench/README.md discusses (not the default).

Batch size 1 -- the talk's stochastic gradient descent -- gets its own rows for the dense nets:
``mxdl``, ``torch``, ``torch-1t`` and ``torch-lean`` on the first ``--sgd-limit`` (5,000) training samples at
``--sgd-lr`` (0.01; at 0.1 the mlp diverges), reported as microseconds per update next to s/epoch.

Every variant runs in its own process (MXNet reads its environment once, at import; peak RSS is that
process's), and prints one JSON line.  This script prints a table of seconds per epoch (the median
of the epochs after the first), samples/s, test accuracy, evaluation time, peak RSS and settings,
then the ratios mxdl / meetup, mxdl / torch and mxdl / the compute lower bound (``bench/flops.py``),
and the same as JSON lines.  Seconds per epoch are the best (fastest) of every process's epochs after
its first, over all rounds: on a shared machine the fastest epoch is the one least disturbed by
others; the median is in the JSON lines too.  See bench/README.md for a run on the reference machine.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

# This process imports neither mxdl nor MXNet: children get the user's environment as it is (mxdl
# sets its defaults in os.environ at import), and a child's peak RSS, which on Linux includes the
# parent's memory it was forked from, stays its own.
_USER_ENV = dict(os.environ)
_HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = ("logreg", "mlp", "lenet")
BATCH_SIZES = (1, 64, 256)
SGD_MODELS = ("logreg", "mlp")  # batch 1 (the talk's SGD): the dense nets
SGD_VARIANTS = ("mxdl", "torch", "torch-1t", "torch-lean")  # the meetup pipeline at batch 1 would take minutes
VARIANTS = ("mxdl", "meetup", "torch", "torch-1t", "torch-lean", "mxdl-conv")
TORCH_VARIANTS = ("torch", "torch-1t", "torch-lean")
# mxdl-conv: mxdl's path with the engine settings that suit a conv net (not the default; see README).
CONV_ENV = {"MXNET_ENGINE_TYPE": "NaiveEngine", "OMP_NUM_THREADS": "2"}
RESULT = "RESULT "  # prefix of a worker's one line of JSON on stdout


# ----------------------------------------------------------------------------- workers (children)

def _settings_mxnet(hybridize):
    import mxnet as mx

    from mxdl import env as mxdl_env

    env = {name: os.environ[name] for name in sorted(os.environ)
           if name.startswith(("MXNET_", "OMP_", "KMP_"))}
    return {"framework": f"mxnet {mx.__version__}",
            "threads": os.environ.get("OMP_NUM_THREADS", f"default ({os.cpu_count()})"),
            "engine": os.environ.get("MXNET_ENGINE_TYPE", "ThreadedEnginePerDevice"),
            "mkldnn": os.environ.get("MXNET_MKLDNN_ENABLED", "1") != "0"
            and mx.runtime.Features().is_enabled("MKLDNN"),
            "hybridize": hybridize, "env": env,
            "mxdl_defaults": os.environ.get("MXDL_ENV_DEFAULTS", "1") != "0" and bool(mxdl_env.DEFAULTS)}


def _time_median(fn, repeats=3):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def worker_mxdl(args):
    """mxdl's default path: the library call behind scripts/mnist.py, with its defaults."""
    from mxdl import env as mxdl_env  # sets mxdl's environment defaults before MXNet is imported

    if args.variant == "mxdl":  # and, as scripts/mnist.py does, the model's and batch size's own
        mxdl_env.configure(args.model, args.batch_size)
    from mxdl.config import Config
    from mxdl.demos.mnist_demo import run
    from mxdl.train import evaluate

    config = Config(model=args.model, dataset=args.dataset, data_dir=args.data_dir, download=False,
                    batch_size=args.batch_size, num_epochs=args.epochs, limit=args.limit,
                    lr=args.lr, seed=args.seed, quiet=True)
    result = run(config, log=lambda line: print(line, file=sys.stderr))
    X_test, y_test = result.dataset.test
    eval_seconds = _time_median(lambda: evaluate(result.net, X_test, y_test))
    return {"epoch_seconds": result.history.column("seconds"),
            "test_acc_by_epoch": result.history.column("test_acc"), "eval_seconds": eval_seconds,
            "num_train": len(result.dataset.train[1]), "num_test": len(y_test),
            "settings": _settings_mxnet(config.hybridize)}


def _load_arrays(path):
    import numpy as np

    with np.load(path) as arrays:
        return (arrays["X_train"], arrays["y_train"]), (arrays["X_test"], arrays["y_test"])


def worker_meetup(args):
    """The meetup notebook's pipeline (MXNet's own defaults: mxdl's are switched off for it)."""
    import mxnet as mx

    import meetup_baseline as meetup
    from mxdl.models import get_model
    from mxdl.utils import seed_everything

    train, test = _load_arrays(args.arrays)
    seed_everything(args.seed)
    conv = args.model == "lenet"
    train_data, test_data = meetup.loaders(train, test, args.batch_size, conv)
    ctx = mx.cpu()
    net = get_model(args.model, ctx=ctx)  # mxdl's init, so that only the pipeline differs
    accuracies, eval_times = [], []

    def after_epoch(epoch, cumulative_loss):  # test accuracy after each epoch, not timed with it
        start = time.perf_counter()
        accuracies.append(meetup.evaluate_accuracy(test_data, net, ctx, flatten=not conv))
        eval_times.append(time.perf_counter() - start)

    seconds = meetup.train(net, train_data, args.epochs, args.batch_size, args.lr, ctx,
                           flatten=not conv, on_epoch=after_epoch)
    return {"epoch_seconds": seconds, "test_acc_by_epoch": accuracies,
            "eval_seconds": statistics.median(eval_times),
            "num_train": len(train[1]), "num_test": len(test[1]),
            "settings": _settings_mxnet(False)}


def worker_torch(args):
    """The same nets in PyTorch; ``torch-1t`` with one intra-op thread, ``torch-lean`` also with the
    leanest loop (``torch_baseline.train(lean=True)``)."""
    import torch

    import torch_baseline

    if args.variant in ("torch-1t", "torch-lean"):
        torch.set_num_threads(1)
    train, test = _load_arrays(args.arrays)
    if args.limit is not None:  # (the batch-1 rows train on the first --sgd-limit samples)
        train = train[0][:args.limit], train[1][:args.limit]
    torch.manual_seed(args.seed)
    net = torch_baseline.build(args.model)
    accuracies = []
    seconds = torch_baseline.train(net, *train, num_epochs=args.epochs, batch_size=args.batch_size,
                                   lr=args.lr, seed=args.seed, lean=args.variant == "torch-lean",
                                   on_epoch=lambda: accuracies.append(torch_baseline.accuracy(net, *test)))
    eval_seconds = _time_median(lambda: torch_baseline.accuracy(net, *test))
    return {"epoch_seconds": seconds, "test_acc_by_epoch": accuracies, "eval_seconds": eval_seconds,
            "num_train": len(train[1]), "num_test": len(test[1]),
            "settings": {"framework": f"torch {torch.__version__}", "threads": torch.get_num_threads(),
                         "engine": "eager, lean loop" if args.variant == "torch-lean" else "eager",
                         "mkldnn": torch.backends.mkldnn.is_available(),
                         "hybridize": False}}


def worker_gemm(args):
    """The machine's fp32 GEMM rate (all cores) and each model's multiply-adds per sample."""
    import flops
    from mxdl.models import get_model

    rates = flops.measure_gemm_rates(sizes=args.gemm_sizes)
    macs = {name: flops.forward_macs(get_model(name)) for name in MODELS}
    return {"gemm_rates": rates, "forward_macs": macs}


def worker_prepare(args):
    """Load the data once, with mxdl's loader, into the .npz that the baselines' processes read."""
    import numpy as np

    from mxdl.data import load_dataset

    data = load_dataset(args.dataset, args.data_dir, args.limit, download=False, progress=False)
    (X_train, y_train), (X_test, y_test) = data.train, data.test
    np.savez(args.arrays, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test)
    return {"data": str(data)}


WORKERS = {"prepare": worker_prepare, "mxdl": worker_mxdl, "mxdl-conv": worker_mxdl, "meetup": worker_meetup,
           "torch": worker_torch, "torch-1t": worker_torch, "torch-lean": worker_torch, "gemm": worker_gemm}


def run_worker(args):
    result = WORKERS[args.variant](args)
    result.update(variant=args.variant, model=args.model, batch_size=args.batch_size)
    print(RESULT + json.dumps(result), flush=True)


# ----------------------------------------------------------------------------- the parent

def child_env(variant):
    """The environment of a variant's process: the user's, plus what that variant is about."""
    env = dict(_USER_ENV)
    if variant == "mxdl-conv":
        env.update(CONV_ENV)
    elif variant != "mxdl":
        # The baselines run on their frameworks' own defaults, not mxdl's.
        env["MXDL_ENV_DEFAULTS"] = "0"
    if variant == "gemm":
        env["OMP_NUM_THREADS"] = str(os.cpu_count())  # the machine's rate: every core
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_HERE, env.get("PYTHONPATH")) if p)
    return env


def job_limit_lr(args, batch_size):
    """The training-set limit and learning rate of a job: batch 1 has its own (--sgd-limit, --sgd-lr)."""
    if batch_size == 1:
        limit = args.sgd_limit if args.limit is None else min(args.limit, args.sgd_limit)
        return limit, args.sgd_lr
    return args.limit, args.lr


def spawn(variant, args, model=None, batch_size=None, epochs=1):
    """Run one worker process; return its result with its peak RSS (MB) and wall time."""
    limit, lr = job_limit_lr(args, batch_size)
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", variant, "--dataset", args.dataset,
           "--epochs", str(epochs), "--seed", str(args.seed), "--lr", str(lr)]
    for flag, value in (("--model", model), ("--batch-size", batch_size), ("--data-dir", args.data_dir),
                        ("--limit", limit), ("--arrays", args.arrays),
                        ("--gemm-sizes", ",".join(map(str, args.gemm_sizes)))):
        if value is not None:
            cmd += [flag, str(value)]
    start = time.time()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=child_env(variant), stdout=subprocess.PIPE, stderr=err,
                                text=True)
        try:
            out = proc.stdout.read()
        except BaseException:  # e.g. Ctrl-C: do not leave the worker running
            proc.kill()
            raise
        finally:
            proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    lines = [line for line in out.splitlines() if line.startswith(RESULT)]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{variant} {model or ''} {batch_size or ''} failed (exit {proc.returncode}):\n"
                         + stderr[-3000:])
    result = json.loads(lines[-1][len(RESULT):])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    result["wall_seconds"] = time.time() - start
    return result


def _timed_epochs(runs):
    return [t for run in runs for t in (run["epoch_seconds"][1:] or run["epoch_seconds"])]


def epoch_seconds(runs):
    """The median of every run's epochs after its first (its only one if alone)."""
    return statistics.median(_timed_epochs(runs))


def best_epoch_seconds(runs):
    """Seconds per epoch: the fastest of every run's epochs after its first (its only one if alone)."""
    return min(_timed_epochs(runs))


def summarise(runs, gemm_flops, macs):
    """One row per (model, batch size, variant) from its runs over all rounds."""
    import flops

    first = runs[0]
    seconds = best_epoch_seconds(runs)
    updates = -(-first["num_train"] // first["batch_size"])
    return {"model": first["model"], "batch_size": first["batch_size"], "variant": first["variant"],
            "seconds_per_epoch": seconds, "median_seconds_per_epoch": epoch_seconds(runs),
            "updates_per_epoch": updates, "us_per_update": seconds / updates * 1e6,
            "samples_per_sec": first["num_train"] / seconds,
            "epochs_timed": sum(max(len(r["epoch_seconds"]) - 1, 1) for r in runs),
            "epochs": len(first["epoch_seconds"]),
            "test_acc": statistics.median(r["test_acc_by_epoch"][-1] for r in runs),
            "eval_seconds": statistics.median(r["eval_seconds"] for r in runs),
            "num_train": first["num_train"], "num_test": first["num_test"],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "lower_bound_seconds": flops.lower_bound_seconds(macs[first["model"]], first["num_train"],
                                                             gemm_flops),
            "settings": first["settings"]}


def ratios(rows):
    """mxdl's seconds per epoch divided by each other variant's and by the lower bound."""
    by_key = {(r["model"], r["batch_size"], r["variant"]): r for r in rows}
    out = []
    for (model, batch_size, variant), row in by_key.items():
        if variant != "mxdl":
            continue
        ratio = {"model": model, "batch_size": batch_size, "kind": "ratio",
                 "mxdl_over_bound": row["seconds_per_epoch"] / row["lower_bound_seconds"]}
        for other in ("meetup",) + TORCH_VARIANTS:
            if (model, batch_size, other) in by_key:
                ratio[f"mxdl_over_{other.replace('-', '_')}"] = (
                    row["seconds_per_epoch"] / by_key[model, batch_size, other]["seconds_per_epoch"])
        torches = [by_key[model, batch_size, t]["seconds_per_epoch"] for t in TORCH_VARIANTS
                   if (model, batch_size, t) in by_key]
        if torches:  # PyTorch at its fastest for this row (threads, or the lean loop at batch 1)
            ratio["mxdl_over_best_torch"] = row["seconds_per_epoch"] / min(torches)
        if (model, batch_size, "mxdl-conv") in by_key and (model, batch_size, "torch") in by_key:
            ratio["mxdl_conv_over_torch"] = (by_key[model, batch_size, "mxdl-conv"]["seconds_per_epoch"]
                                             / by_key[model, batch_size, "torch"]["seconds_per_epoch"])
        out.append(ratio)
    return out


def _settings_text(settings):
    parts = [f"threads={settings['threads']}", settings["engine"]]
    if settings["framework"].startswith("mxnet"):
        parts += ["hybridized" if settings["hybridize"] else "imperative",
                  "mkldnn" if settings["mkldnn"] else "no-mkldnn"]
        extra = {k: v for k, v in settings["env"].items() if k not in ("OMP_NUM_THREADS", "MXNET_ENGINE_TYPE")}
        parts += [f"{k}={v}" for k, v in extra.items()]
    return " ".join(parts)


def format_table(rows, ratio_rows):
    lines = ["| model | batch | samples | variant | s/epoch | µs/update | samples/s | test acc | eval s "
             "| peak RSS MB | settings |",
             "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['batch_size']} | {r['num_train']:,} | {r['variant']} | "
                     f"{r['seconds_per_epoch']:.3f} | {r['us_per_update']:,.1f} | "
                     f"{r['samples_per_sec']:,.0f} | {r['test_acc']:.4f} | {r['eval_seconds']:.3f} | "
                     f"{r['peak_rss_mb']:.0f} | {_settings_text(r['settings'])} |")
    lines += ["", "| model | batch | mxdl ÷ meetup | mxdl ÷ torch | mxdl ÷ torch-1t | mxdl ÷ torch-lean "
              "| mxdl ÷ best torch | mxdl ÷ lower bound | mxdl-conv ÷ torch |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in ratio_rows:
        def cell(key, speedup=False):
            if key not in r:
                return "n/a"
            text = f"{r[key]:.3f}"
            return text + (f" ({1 / r[key]:.1f}x faster)" if speedup else "")
        lines.append(f"| {r['model']} | {r['batch_size']} | {cell('mxdl_over_meetup', True)} | "
                     f"{cell('mxdl_over_torch')} | {cell('mxdl_over_torch_1t')} | {cell('mxdl_over_torch_lean')} | "
                     f"{cell('mxdl_over_best_torch')} | "
                     f"{cell('mxdl_over_bound')} | "
                     f"{cell('mxdl_conv_over_torch')} |")
    return "\n".join(lines)


def torch_available():
    env = child_env("torch")
    return subprocess.run([sys.executable, "-c", "import torch"], env=env, capture_output=True).returncode == 0


def plan(args, variants):
    """(model, batch size, variant, epochs) of each process of one round, before rotation."""
    jobs = []
    for model in args.models:
        for batch_size in args.batch_sizes:
            for variant in variants:
                if batch_size == 1 and (model not in SGD_MODELS or variant not in SGD_VARIANTS):
                    continue  # batch 1: the dense nets against PyTorch (see SGD_MODELS)
                if variant == "torch" and model not in args.torch_2t_models:
                    continue  # (see --torch-2t-models)
                if variant == "torch-1t" and model == "lenet":
                    continue  # conv layers want every core; one thread would only be slower
                if variant == "torch-lean" and batch_size != 1:
                    continue  # (the batch-1 reference: no shuffle, no loss kept)
                if variant == "mxdl-conv" and model != "lenet":
                    continue  # the dense nets are slower this way (bench/README.md, Levers)
                jobs.append((model, batch_size, variant, args.epochs))
    return jobs


def run_benchmark(args, log):
    variants = [v for v in args.variants if not v.startswith("torch") or torch_available()]
    skipped = sorted(set(args.variants) - set(variants))
    if skipped:
        log(f"note: torch is not importable, skipping {', '.join(skipped)} "
            "(pip install -e .[bench] brings a CPU build)")
    with tempfile.TemporaryDirectory() as directory:
        args.arrays = os.path.join(directory, "arrays.npz")
        log(f"data: {spawn('prepare', args)['data']}")
        gemm = spawn("gemm", args)
        gemm_flops = max(gemm["gemm_rates"].values())
        log("GEMM rates (GFLOP/s): " + ", ".join(f"{k} {v / 1e9:.1f}" for k, v in gemm["gemm_rates"].items()))
        jobs = plan(args, variants)
        runs = {}
        for round_index in range(args.rounds):
            groups = {}
            for job in jobs:
                groups.setdefault(job[:2], []).append(job)
            for group in groups.values():
                shift = round_index % len(group)
                for model, batch_size, variant, epochs in group[shift:] + group[:shift]:
                    result = spawn(variant, args, model, batch_size, epochs)
                    runs.setdefault((model, batch_size, variant), []).append(result)
                    log(f"round {round_index + 1}/{args.rounds} {model:6s} batch {batch_size:3d} "
                        f"{variant:9s} epochs " + " ".join(f"{t:.3f}" for t in result["epoch_seconds"])
                        + " s, test acc " + " ".join(f"{a:.4f}" for a in result["test_acc_by_epoch"])
                        + f", peak RSS {result['peak_rss_mb']:.0f} MB")
    rows = [summarise(r, gemm_flops, gemm["forward_macs"]) for r in runs.values()]
    order = {v: i for i, v in enumerate(VARIANTS)}
    rows.sort(key=lambda r: (MODELS.index(r["model"]), r["batch_size"], order[r["variant"]]))
    return rows, ratios(rows), gemm


def _csv(cast, choices=None):
    def parse(text):
        values = [cast(v) for v in text.split(",") if v]
        if not values or (choices and any(v not in choices for v in values)):
            raise argparse.ArgumentTypeError(f"expected a comma list of {', '.join(map(str, choices or ()))}")
        return values
    return parse


def load_average():
    """The machine's load average over 1, 5 and 15 minutes, as the benchmarks log it: '0.81 1.22 1.39'."""
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def write_atomically(path, text):
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    directory = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile("w", dir=directory, delete=False, suffix=".tmp") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(f.name, path)


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    arg = parser.add_argument
    arg("--quick", action="store_true", help="smoke test: --limit 1000, one epoch, one round")
    arg("--dataset", default="fashion-mnist", help="mnist or fashion-mnist (mxdl.data names)")
    arg("--data-dir", default=None, help="directory of the four IDX files (default: mxdl's search path, "
        "e.g. Debian's /usr/share/datasets/fashion-mnist)")
    arg("--limit", type=int, default=None, help="train on the first LIMIT samples only")
    arg("--models", type=_csv(str, MODELS), default=list(MODELS), help="comma list")
    arg("--batch-sizes", type=_csv(int), default=list(BATCH_SIZES), help="comma list")
    arg("--variants", type=_csv(str, VARIANTS), default=list(VARIANTS), help="comma list")
    arg("--epochs", type=int, default=3, help="epochs per process, every variant (the first is not "
        "timed unless it is the only one); test accuracy is after the last")
    arg("--rounds", type=int, default=2, help="each variant runs once per round, in rotated order")
    arg("--gemm-sizes", type=_csv(int), default=[512, 1024, 2048], help="square matrix sizes for "
        "the GEMM rate (the best one counts)")
    arg("--torch-2t-models", type=_csv(str, MODELS), default=list(MODELS), help="the models that "
        "the torch variant (2 threads) runs for; on a loaded machine PyTorch's two spinning threads "
        "can take minutes per epoch of a dense net, where one thread (torch-1t) is its fastest")
    arg("--lr", type=float, default=0.1)
    arg("--sgd-limit", type=int, default=5000, help="batch-1 rows train on the first SGD_LIMIT samples")
    arg("--sgd-lr", type=float, default=0.01, help="the learning rate of the batch-1 rows")
    arg("--seed", type=int, default=1)
    arg("--json", metavar="FILE", help="also write the JSON lines to FILE")
    # internal: one variant in this process
    arg("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    arg("--variant", help=argparse.SUPPRESS)
    arg("--model", help=argparse.SUPPRESS)
    arg("--batch-size", type=int, help=argparse.SUPPRESS)
    arg("--arrays", help=argparse.SUPPRESS)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.worker:
        args.variant = args.worker
        run_worker(args)
        return 0
    if args.quick:
        args.limit = args.limit or 1000
        args.epochs = args.rounds = 1
        args.gemm_sizes = [256, 512]
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    log(f"command: {' '.join([os.path.basename(sys.executable)] + sys.argv)}")
    log(f"load average at start: {load_average()}; {os.cpu_count()} CPUs")
    started = time.time()
    rows, ratio_rows, gemm = run_benchmark(args, log)
    print(format_table(rows, ratio_rows))
    print()
    lines = [json.dumps({"kind": "gemm", **gemm})] + [json.dumps({"kind": "result", **r}) for r in rows]
    lines += [json.dumps(r) for r in ratio_rows]
    print("\n".join(lines))
    if args.json:
        write_atomically(args.json, "\n".join(lines) + "\n")
    log(f"total {time.time() - started:.0f} s; load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
