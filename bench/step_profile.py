#!/usr/bin/env python
"""Where one training step of mxdl's default path spends its time: a per-operator profile.

    python bench/step_profile.py                        # logreg and mlp at batch 1 (SGD), 2,000 samples
    python bench/step_profile.py --models mlp --batch-size 64 --samples 6400

For each model it trains with ``mxdl.train.fit`` (the path ``scripts/mnist.py`` uses) one warm-up
epoch and ``--repeats`` timed ones, then one more epoch of ``--profile-samples`` samples under
MXNet's profiler, and prints per update (one step of the loop):

* **time**: wall-clock microseconds, and the CPU time of the main thread (Python and MXNet's
  front end: argument handling, engine pushes) apart from MXNet's engine worker threads (the
  operators themselves), read from ``/proc/self/task``;
* **C API calls**: every call from Python into MXNet (MXNet's profiler, ``profile_api``);
* **operators**: every operator the engine ran (MXNet's profiler, ``profile_symbolic`` and
  ``profile_imperative``), how many per update and the median microseconds of each (the median,
  because other processes on a shared machine disturb some calls a lot and most not at all).

Nothing here is a test; the numbers depend on the machine and its load.  bench/README.md quotes a run.
"""
import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from train_speed import load_average, write_atomically  # (bench/ is on sys.path: the script's own directory)

_HERE = os.path.dirname(os.path.abspath(__file__))


def _thread_cpu():
    """{thread id: CPU seconds (user + system)} of every thread of this process."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended
            continue
        out[int(tid)] = (int(fields[11]) + int(fields[12])) / ticks
    return out


def _operator_durations(trace_path):
    """{operator name: [microseconds of each call]} from a chrome-trace file of MXNet's profiler."""
    with open(trace_path) as f:
        events = json.load(f)["traceEvents"]
    open_calls, durations = collections.defaultdict(list), collections.defaultdict(list)
    for event in events:
        if event.get("cat") != "operator" or event.get("ph") not in ("B", "E"):
            continue
        key = (event["pid"], event["tid"], event["name"])
        if event["ph"] == "B":
            open_calls[key].append(event["ts"])
        elif open_calls[key]:
            durations[event["name"]].append(event["ts"] - open_calls[key].pop())
    return durations


def _per_update(times, updates):
    """Calls per update and their cost: an operator called k times a step has k call sites (e.g. one
    ``sgd_update`` per parameter, of different sizes); the median of each site, summed, is what the
    operator costs an update -- robust to the calls that other processes disturbed."""
    k = max(1, round(len(times) / updates))
    sites = [statistics.median(times[i::k]) for i in range(k) if times[i::k]]
    return {"calls": len(times) / updates, "median_us": statistics.median(times),
            "site_median_us": sites, "us_per_update": sum(sites)}


def _api_counts(table):
    """{C API function: number of calls} from the profiler's aggregate table."""
    counts, section = {}, None
    for line in table.splitlines():
        if line.strip() in ("MXNET_C_API", "operator", "Device Storage"):
            section = line.strip()
            continue
        parts = line.split()
        if section == "MXNET_C_API" and len(parts) >= 6 and parts[0].startswith("MX") and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    return counts


def profile(model_name, args, log):
    import mxnet as mx
    from mxnet import gluon, nd

    from mxdl.data import load_dataset
    from mxdl.models import get_model
    from mxdl.train import fit

    data = load_dataset(args.dataset, args.data_dir, args.samples, download=False, progress=False)
    X, y = data.train
    n = len(y)
    updates = -(-n // args.batch_size)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    main = threading.get_native_id()
    snapshots = []  # (wall time, {thread: CPU seconds}) at the end of every epoch

    def snapshot(stats=None):
        nd.waitall()
        snapshots.append((time.perf_counter(), _thread_cpu()))

    # The first epoch binds the graph and allocates memory: only the epochs after it count.
    snapshot()
    fit(get_model(model_name), loss_fn, (X, y), num_epochs=1 + args.repeats, batch_size=args.batch_size,
        lr=args.lr, seed=args.seed, on_epoch=snapshot)
    walls, mains, workers = [], [], []
    for (t0, before), (t1, after) in zip(snapshots[1:], snapshots[2:]):
        used = {tid: after[tid] - before.get(tid, 0.0) for tid in after}
        walls.append(t1 - t0)
        mains.append(used.pop(main, 0.0))
        workers.append(sum(used.values()))
    # Two more epochs on the first --profile-samples samples, the second under MXNet's profiler:
    # which calls and operators, how many, how long.  (Its trace of every call is large.)
    m = min(n, args.profile_samples)
    profiled_updates = -(-m // args.batch_size)
    with tempfile.TemporaryDirectory() as directory:
        trace = os.path.join(directory, "trace.json")
        mx.profiler.set_config(profile_symbolic=True, profile_imperative=True, profile_api=True,
                               profile_memory=False, aggregate_stats=True, filename=trace)

        def toggle(stats):
            nd.waitall()
            mx.profiler.set_state("run" if stats.epoch == 1 else "stop")

        fit(get_model(model_name), loss_fn, (X[:m], y[:m]), num_epochs=2, batch_size=args.batch_size,
            lr=args.lr, seed=args.seed, on_epoch=toggle)
        mx.profiler.dump(finished=True)  # the trace file first: dumps(reset=True) empties it
        table = mx.profiler.dumps(reset=True)
        durations = _operator_durations(trace)
    api = _api_counts(table)
    per = 1e6 / updates
    result = {
        "model": model_name, "batch_size": args.batch_size, "samples": n, "updates": updates,
        "us_per_update_wall": min(walls) * per, "us_per_update_wall_median": statistics.median(walls) * per,
        "us_per_update_main_thread_cpu": min(mains) * per,
        "us_per_update_engine_threads_cpu": min(workers) * per,
        "api_calls_per_update": {k: v / profiled_updates for k, v in sorted(api.items(), key=lambda kv: -kv[1])},
        "operators_per_update": {
            name: _per_update(times, profiled_updates)
            for name, times in sorted(durations.items(), key=lambda kv: -len(kv[1]))},
        "environment": {k: v for k, v in sorted(os.environ.items())
                        if k.startswith(("MXNET_", "OMP_"))},
    }
    log(f"{model_name}: {result['us_per_update_wall']:.1f} us per update (best of {args.repeats})")
    return result


def format_report(result, min_calls=0.5):
    """A markdown summary of one model's profile."""
    ops = {k: v for k, v in result["operators_per_update"].items() if v["calls"] >= min_calls}
    api = {k: v for k, v in result["api_calls_per_update"].items() if v >= min_calls}
    op_time = sum(v["us_per_update"] for v in ops.values())
    lines = [
        f"### {result['model']}, batch {result['batch_size']} ({result['samples']:,} samples, "
        f"{result['updates']:,} updates an epoch)",
        "",
        f"- wall: {result['us_per_update_wall']:.1f} µs per update (best epoch; median "
        f"{result['us_per_update_wall_median']:.1f})",
        f"- CPU: main thread (Python + MXNet's front end) {result['us_per_update_main_thread_cpu']:.1f} µs, "
        f"engine worker threads (the operators) {result['us_per_update_engine_threads_cpu']:.1f} µs per update",
        f"- {sum(api.values()):.0f} C API calls per update: "
        + ", ".join(f"{k} {v:.0f}" for k, v in api.items()),
        f"- {sum(v['calls'] for v in ops.values()):.0f} operators per update, "
        f"{op_time:.0f} µs in all by their medians (the profiler's own overhead included):",
        "",
        "| operator | calls per update | median µs of each call | µs per update |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, v in sorted(ops.items(), key=lambda kv: -kv[1]["us_per_update"]):
        sites = ", ".join(f"{t:.0f}" for t in v["site_median_us"])
        lines.append(f"| {name} | {v['calls']:.0f} | {sites} | {v['us_per_update']:.0f} |")
    return "\n".join(lines)


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    arg = parser.add_argument
    arg("--models", default="logreg,mlp", help="comma list of logreg, mlp, lenet")
    arg("--batch-size", type=int, default=1)
    arg("--samples", type=int, default=2000, help="train on the first SAMPLES training samples")
    arg("--lr", type=float, default=0.01)
    arg("--seed", type=int, default=1)
    arg("--repeats", type=int, default=3, help="timed epochs (the best counts)")
    arg("--profile-samples", type=int, default=500, help="the profiled epoch's samples")
    arg("--dataset", default="fashion-mnist")
    arg("--data-dir", default=None)
    arg("--json", metavar="FILE", help="also write the profiles as JSON lines to FILE")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    models = [name for name in args.models.split(",") if name]
    if len(models) > 1:  # one process per model: MXNet's profiler writes one trace file per process
        log(f"command: {' '.join([os.path.basename(sys.executable)] + sys.argv)}")
        log(f"load average at start: {load_average()}; {os.cpu_count()} CPUs")
        results = []
        with tempfile.TemporaryDirectory() as directory:
            rest = list(argv if argv is not None else sys.argv[1:])
            for name in models:
                out = os.path.join(directory, f"{name}.jsonl")
                subprocess.run([sys.executable, os.path.abspath(__file__), *rest, "--models", name,
                                "--json", out], check=True, stdout=subprocess.DEVNULL)
                with open(out) as f:
                    results += [json.loads(line) for line in f]
    else:
        sys.path.insert(0, os.path.dirname(_HERE))
        from mxdl import env  # mxdl's environment defaults, before MXNet is imported

        env.configure(models[0], args.batch_size)  # and this run's, as scripts/mnist.py chooses them

        results = [profile(models[0], args, log)]
    print("\n\n".join(format_report(r) for r in results))
    if args.json:
        write_atomically(args.json, "".join(json.dumps(r) + "\n" for r in results))
    if len(models) > 1:
        log(f"load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
