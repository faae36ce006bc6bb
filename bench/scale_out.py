#!/usr/bin/env python
"""Scale-out on this machine: training samples/s with 1 vs 2 contexts, dist_sync workers and Horovod ranks.

    python bench/scale_out.py                 # Fashion-MNIST (60k) if installed, mlp, global batch 256
    python bench/scale_out.py --quick         # smoke test: 1000 mnist-t10k samples, 2 epochs (~25 s)
    python bench/scale_out.py --model lenet --limit 10000 --rounds 2

Every variant trains the same net, from the same seed, on the unshuffled data with the same *global*
batch B, so that all of them take the same updates (the same maths up to float rounding:
tests/test_scale_out.py checks that their parameters agree to 1e-5) and only the speed differs.
(Over several epochs a non-convex net such as the MLP amplifies those rounding differences, so test
accuracies can differ in the third digit; logreg's agree.)  Each runs in its own process (tree), through the same code as ``scripts/mnist.py``:

* ``1 context``     -- ``--ctx cpu``, batch B;
* ``2 contexts``    -- ``--ctx cpu:0,cpu:1``: each batch split in two halves, gradients summed by the
  ``device`` kvstore;
* ``1 worker``      -- ``python -m mxdl.distributed.launch --workers 1 --servers 1``, ``--kvstore dist_sync``;
* ``2 workers``     -- ``--workers 2``, batch B/2 on each worker;
* ``2 workers, 1 thread`` -- the same with ``OMP_NUM_THREADS=1`` in every process;
* ``1 rank``        -- ``horovodrun -np 1 --gloo``, ``--dist horovod`` (Horovod's ring-allreduce engine);
* ``2 ranks``       -- ``horovodrun -np 2 -H localhost:2 --gloo``, batch B/2 on each rank.

The Horovod rows need Horovod (``make horovod``); without it (or with ``--no-horovod``) they are left
out, with a note on stderr.

samples/s is the epoch's training samples over its seconds (the median over the epochs after the
first, which pays for hybridization and the kvstore's start; for workers, the slowest worker's
epoch); test-set evaluation is not timed.  Prints a table, the ratios, then the same as JSON lines.
See bench/README.md ("Scale-out") for a run on the reference machine and why, on one 2-core
machine, more devices or workers do not mean more samples/s.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
FASHION = "/usr/share/datasets/fashion-mnist"
RESULT = "RESULT "  # prefix of a child's one line of JSON on stdout
# name -> (engine, processes that train, --ctx, extra environment); engine: "process" (one plain
# process), "ps-lite" (dist_sync workers under mxdl.distributed.launch) or "horovod" (horovodrun ranks)
VARIANTS = {
    "1 context": ("process", 1, "cpu", {}),
    "2 contexts": ("process", 1, "cpu:0,cpu:1", {}),
    "1 worker": ("ps-lite", 1, "cpu", {}),
    "2 workers": ("ps-lite", 2, "cpu", {}),
    "2 workers, 1 thread": ("ps-lite", 2, "cpu", {"OMP_NUM_THREADS": "1"}),
    "1 rank": ("horovod", 1, "cpu", {}),
    "2 ranks": ("horovod", 2, "cpu", {}),
}
RATIOS = (("2 contexts", "1 context"), ("1 worker", "1 context"), ("2 workers", "1 worker"),
          ("2 workers, 1 thread", "1 worker"), ("2 workers", "1 context"),
          ("1 rank", "1 context"), ("2 ranks", "1 rank"), ("2 ranks", "2 workers"), ("2 ranks", "1 context"))


def horovod_available():
    """Horovod with its MXNet library installed (looked for without importing it or MXNet)."""
    import glob
    import importlib.util

    spec = importlib.util.find_spec("horovod")
    return bool(spec and spec.submodule_search_locations and any(
        glob.glob(os.path.join(d, "mxnet", "mpi_lib*")) for d in spec.submodule_search_locations))


def horovodrun():
    """The horovodrun beside this Python (a venv's), else the one on PATH."""
    path = os.path.join(os.path.dirname(sys.executable), "horovodrun")
    return path if os.path.exists(path) else "horovodrun"


# ----------------------------------------------------------------------------- the child

def run_child(args):
    """Train once as scripts/mnist.py would, but always with one OpenMP thread a process (the script
    gives one process on one CPU device the threads of mxdl.env.configure); print this process's
    epoch times as one JSON line."""
    from mxdl.distributed import launch
    from mxdl.config import Config
    from mxdl.demos.mnist_demo import run

    config = Config(model=args.model, dataset=args.dataset, data_dir=args.data_dir, download=False,
                    batch_size=args.batch_size, num_epochs=args.epochs, ctx=args.ctx,
                    kvstore=args.kvstore, dist=args.dist, seed=args.seed, shuffle=False, limit=args.limit,
                    quiet=True)
    with launch.fail_fast():  # a failing dist worker must exit, not hang in its kvstore
        result = run(config, log=lambda line: print(line, file=sys.stderr))
        num_train, num_workers = len(result.dataset.train[1]), result.num_workers
        print(RESULT + json.dumps({
            "rank": result.rank, "num_workers": num_workers, "num_train": num_train,
            "samples": num_train // num_workers * num_workers,  # what the workers' shards cover
            "epoch_seconds": result.history.column("seconds"),
            "test_acc": result.history.last.test_acc,
            "threads": os.environ.get("OMP_NUM_THREADS", "default")}), flush=True)


# ----------------------------------------------------------------------------- the parent

def child_command(args, variant):
    """argv and extra environment of one variant: the child itself, or the launcher running it."""
    engine, num_workers, ctx, env = VARIANTS[variant]
    batch_size = args.batch_size // num_workers  # the same global batch for every variant
    child = [sys.executable, os.path.abspath(__file__), "--child", "--model", args.model,
             "--dataset", args.dataset, "--batch-size", str(batch_size), "--epochs", str(args.epochs),
             "--ctx", ctx, "--seed", str(args.seed),
             "--kvstore", "dist_sync" if engine == "ps-lite" else "device"]
    for flag, value in (("--data-dir", args.data_dir), ("--limit", args.limit)):
        if value is not None:
            child += [flag, str(value)]
    if engine == "process":
        return child, env
    if engine == "horovod":
        return [horovodrun(), "-np", str(num_workers), "-H", f"localhost:{num_workers}", "--gloo",
                "--start-timeout", "60", *child, "--dist", "horovod"], env
    launcher = [sys.executable, "-m", "mxdl.distributed.launch", "--workers", str(num_workers), "--servers", "1",
                "--timeout", str(args.timeout)]
    for name, value in env.items():
        launcher += ["--env", f"{name}={value}"]
    return launcher + ["--"] + child, env


def run_variant(args, variant):
    """Run one variant to the end; return its children's results and its wall time."""
    argv, env = child_command(args, variant)
    start = time.monotonic()
    try:
        proc = subprocess.run(argv, check=False, cwd=_ROOT, env={**os.environ, **env},
                              capture_output=True, text=True, timeout=args.timeout + 30)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"{variant}: no result within {args.timeout + 30} s") from None
    wall = time.monotonic() - start
    # Launcher lines look like "[worker 0] RESULT {...}", horovodrun's like "[0]<stdout>:RESULT {...}",
    # a plain child's like "RESULT {...}".
    results = [json.loads(line.split(RESULT, 1)[1]) for line in proc.stdout.splitlines()
               if RESULT in line]
    expected = VARIANTS[variant][1]
    if proc.returncode != 0 or len(results) != expected:
        raise SystemExit(f"{variant} failed (exit {proc.returncode}, {len(results)} of {expected} "
                         f"results):\n{(proc.stdout + proc.stderr)[-3000:]}")
    return results, wall


def summarise(variant, runs, global_batch):
    """One row: the median epoch (after the first) of the slowest worker, as seconds and samples/s."""
    times = []
    for results, _ in runs:
        per_epoch = [max(epoch) for epoch in zip(*(r["epoch_seconds"] for r in results))]
        times += per_epoch[1:] or per_epoch
    first = runs[0][0][0]
    seconds = statistics.median(times)
    engine, num_workers, ctx, _ = VARIANTS[variant]
    return {"kind": "variant", "variant": variant, "engine": engine,
            "workers": 0 if engine == "process" else num_workers,
            "contexts": len(ctx.split(",")), "threads": first["threads"],
            "global_batch": global_batch, "samples": first["samples"], "seconds_per_epoch": seconds,
            "samples_per_sec": first["samples"] / seconds, "epochs_timed": len(times),
            "wall_seconds": statistics.median(wall for _, wall in runs),
            "test_acc": statistics.median(r[0]["test_acc"] for r, _ in runs)}


def ratios(rows):
    by_name = {row["variant"]: row for row in rows}
    return [{"kind": "ratio", "ratio": f"{a} / {b}",
             "samples_per_sec_ratio": by_name[a]["samples_per_sec"] / by_name[b]["samples_per_sec"]}
            for a, b in RATIOS if a in by_name and b in by_name]


def format_table(rows, ratio_rows, args):
    lines = [f"model {args.model}, {args.dataset}" + (f" (first {args.limit})" if args.limit else "")
             + f", global batch {args.batch_size}, {args.epochs} epochs x {args.rounds} round(s), "
             f"{os.cpu_count()} CPU cores",
             "",
             "| variant | processes | OMP threads | s/epoch | samples/s | wall s | test acc |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        plural = "s" * (r["workers"] > 1)
        processes = {"process": "1",
                     "ps-lite": f"{r['workers']} worker{plural} + 1 server + scheduler",
                     "horovod": f"{r['workers']} rank{plural} (horovodrun --gloo)"}[r["engine"]]
        lines.append(f"| {r['variant']} | {processes} | {r['threads']} | {r['seconds_per_epoch']:.3f} | "
                     f"{r['samples_per_sec']:,.0f} | {r['wall_seconds']:.1f} | {r['test_acc']:.4f} |")
    lines += ["", "| ratio of samples/s | value |", "| --- | ---: |"]
    lines += [f"| {r['ratio']} | {r['samples_per_sec_ratio']:.2f}x |" for r in ratio_rows]
    return "\n".join(lines)


def run_benchmark(args, log):
    """Every variant ``args.rounds`` times, rotating the order each round; returns (rows, ratios)."""
    variants = list(VARIANTS)
    if args.no_horovod or not horovod_available():
        variants = [v for v in variants if VARIANTS[v][0] != "horovod"]
        log("no Horovod rows: " + ("--no-horovod" if args.no_horovod else
                                   "Horovod is not installed (make horovod builds it)"))
    runs = {variant: [] for variant in variants}
    for round_index in range(args.rounds):
        shift = round_index % len(variants)
        for variant in variants[shift:] + variants[:shift]:
            results, wall = run_variant(args, variant)
            runs[variant].append((results, wall))
            seconds = " ".join(f"{max(t):.3f}" for t in zip(*(r["epoch_seconds"] for r in results)))
            log(f"round {round_index + 1}/{args.rounds} {variant:20s} epoch seconds {seconds} "
                f"(wall {wall:.1f} s)")
    rows = [summarise(variant, runs[variant], args.batch_size) for variant in variants]
    return rows, ratios(rows)


def _log(line):
    print(line, file=sys.stderr, flush=True)


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    arg = parser.add_argument
    arg("--quick", action="store_true", help="smoke test: mnist-t10k, 1000 samples, 2 epochs, batch 100")
    arg("--model", default="mlp", choices=("logreg", "mlp", "lenet"))
    arg("--dataset", default=None, help="fashion-mnist when /usr/share/datasets/fashion-mnist exists, "
        "else mnist-t10k (shipped with mxdl)")
    arg("--data-dir", default=None, help="directory holding the IDX files")
    arg("--limit", type=int, default=None, help="train on the first LIMIT samples only")
    arg("--batch-size", type=int, default=256, help="the global batch (split over contexts/workers)")
    arg("--epochs", type=int, default=3, help="epochs per run (the first is not timed)")
    arg("--rounds", type=int, default=1, help="runs of every variant, in rotated order")
    arg("--seed", type=int, default=1)
    arg("--timeout", type=float, default=600.0, help="seconds any one run may take")
    arg("--json", metavar="FILE", help="also write the JSON lines to FILE")
    arg("--no-horovod", action="store_true", help="leave out the Horovod rows (they need make horovod)")
    arg("--child", action="store_true", help=argparse.SUPPRESS)
    arg("--ctx", default="cpu", help=argparse.SUPPRESS)
    arg("--kvstore", default="device", help=argparse.SUPPRESS)
    arg("--dist", default=None, help=argparse.SUPPRESS)
    return parser


def parse_args(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.quick:
        args.dataset = args.dataset or "mnist-t10k"
        args.limit, args.epochs, args.batch_size = args.limit or 1000, 2, 100
    if args.dataset is None:
        args.dataset = "fashion-mnist" if os.path.isdir(FASHION) else "mnist-t10k"
        if args.dataset == "fashion-mnist" and args.data_dir is None:
            args.data_dir = FASHION
    if args.batch_size < 2 or args.batch_size % 2:
        parser.error("--batch-size must be even (it is split over 2 contexts, workers or ranks)")
    if min(args.epochs, args.rounds) < 1:
        parser.error("--epochs and --rounds must be >= 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        return run_child(args)
    rows, ratio_rows = run_benchmark(args, _log)
    print(format_table(rows, ratio_rows, args))
    print()
    text = "".join(json.dumps({**row, "model": args.model, "dataset": args.dataset}) + "\n"
                   for row in rows + ratio_rows)
    print(text, end="")
    if args.json:
        # imported only now, so that MXNet is not loaded in this process while the children run
        from mxdl.files import atomic_write

        with atomic_write(args.json, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
