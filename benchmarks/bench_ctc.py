"""Times kloss.CTC against each backend's native CTC loss, value and gradient.

    python benchmarks/bench_ctc.py [--backends torch,jax,tensorflow] [--sizes 32x200x40x40]
        [--rounds N] [--quick] [--md benchmarks/RESULTS_CTC.md | --no-md]
        [--render build/bench/ctc/results.json]

The driver runs one worker process per backend (`--worker`; Keras fixes its backend at
import), merges their JSON into `build/bench/ctc/results.json` and writes
`benchmarks/RESULTS_CTC.md` (generated; never edit it by hand). Each case times the mean
CTC loss over the batch and its gradient with respect to the logits, kloss's class with its
default reduction (`kloss.CTC()(y, logits)`, labels padded with -1, blank 0) against:

- torch, eager: `F.ctc_loss(F.log_softmax(x).transpose(0, 1), ..., reduction="none").mean()`
  and `torch.autograd.grad`;
- jax, `jax.jit(jax.value_and_grad(...))`: `optax.ctc_loss(...).mean()`;
- tensorflow, `tf.function` and `tf.function(jit_compile=True)` with `tf.GradientTape`:
  `tf.reduce_mean(tf.nn.ctc_loss(..., logits_time_major=False))`;
- on every backend, also `keras.losses.CTC()` (labels padded with its blank 0), the
  `keras.ops.ctc_loss` route.

Sizes are `BxTxCxL`: batch, frames, classes (blank included), longest label; label lengths
are drawn in [L/2, L] and labels avoid the blank, so every sequence is feasible. Inputs are
seeded logits of scale 2. Before timing, each case checks that kloss's value (rtol 1e-4)
and gradient (max error 1e-3 of the largest native entry) equal the reference's. Timing
reuses `bench.py`: warm-up, a repeat count per sample of at least `--min-sample-ms`,
interleaved rounds alternating which side goes first, medians of per-call times and of
per-round ratios, glibc's malloc pinned, 1 thread per library.

Target (the issue): ratio kloss / native <= 1.10 at 32x200x40x40 on every backend (torch
eager, `jax.jit`, `tf.function`).
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from bench import (  # noqa: E402  (bench.py imports no backend at top level)
    affinity,
    check_values,
    configure_malloc,
    configure_thread_env,
    cpu_model,
    loadavg,
    time_case,
)

BACKENDS = ("torch", "jax", "tensorflow")
TARGET_SIZE = (32, 200, 40, 40)
SIZES = ((8, 50, 20, 10), TARGET_SIZE)
QUICK_SIZES = ((4, 30, 10, 6),)
TARGET_RATIO = 1.10
SEED = 20261126
OUT_DIR = os.path.join(ROOT, "build", "bench", "ctc")
MD = os.path.join(HERE, "RESULTS_CTC.md")


def _size(text):
    try:
        out = tuple(int(v) for v in text.lower().split("x"))
    except ValueError:
        out = ()
    if len(out) != 4 or min(out) < 1 or out[2] < 2 or out[1] < 2 * out[3] + 1:
        raise argparse.ArgumentTypeError(
            f"a size is BxTxCxL with C >= 2 and T >= 2L + 1 (every label feasible); got {text!r}"
        )
    return out


def _sizes(text):
    return [_size(s) for s in text.split(",") if s.strip()]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backends", default=",".join(BACKENDS), help="driver: default all three")
    p.add_argument(
        "--sizes", type=_sizes, default=None, help="BxTxCxL,... (8x50x20x10,32x200x40x40)"
    )
    p.add_argument("--rounds", type=int, default=15, help="timed rounds per case (15)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test: size 4x30x10x6, 3 rounds, 0.2 ms samples",
    )
    p.add_argument("--min-sample-ms", type=float, default=1.0, help="as bench.py (default 1)")
    p.add_argument("--threads", type=int, default=1, help="as bench.py (default 1)")
    p.add_argument("--malloc", choices=("pinned", "default"), default="pinned")
    p.add_argument("--no-keras", action="store_true", help="skip keras.losses.CTC")
    p.add_argument("--out-dir", default=OUT_DIR, help="JSON results (build/bench/ctc)")
    p.add_argument("--md", default=MD, help="the report (benchmarks/RESULTS_CTC.md)")
    p.add_argument("--no-md", action="store_true", help="do not write the report")
    p.add_argument("--render", metavar="RESULTS_JSON", help="only rewrite the report from JSON")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not args.backends or any(b not in BACKENDS for b in args.backends):
        p.error(f"--backends: choose from {', '.join(BACKENDS)}")
    if args.quick:
        args.sizes = args.sizes or list(QUICK_SIZES)
        args.rounds = min(args.rounds, 3)
        args.min_sample_ms = min(args.min_sample_ms, 0.2)
    args.sizes = args.sizes or list(SIZES)
    return args


# --------------------------------------------------------------------------- inputs


def make_inputs(size):
    """Seeded logits (B, T, C) float32, labels (B, L) int32 padded with -1 (classes
    1..C-1, blank 0), their lengths, and the frame counts (all T)."""
    import numpy as np

    B, T, C, L = size
    rng = np.random.default_rng([SEED, *size])
    x = rng.normal(scale=2.0, size=(B, T, C)).astype(np.float32)
    lengths = rng.integers(max(L // 2, 1), L + 1, size=B).astype(np.int32)
    y = rng.integers(1, C, size=(B, L)).astype(np.int32)
    y[np.arange(L)[None, :] >= lengths[:, None]] = -1
    return x, y, lengths, np.full(B, T, np.int32)


# --------------------------------------------------------------------------- backends


def torch_backend(threads):
    import numpy as np
    import torch
    import torch.nn.functional as F

    if threads > 0:
        torch.set_num_threads(threads)

    def native(data):
        x, y, lengths, frames = data
        targets = torch.tensor(np.where(y < 0, 0, y), dtype=torch.long)
        lt, ft = torch.tensor(lengths, dtype=torch.long), torch.tensor(frames, dtype=torch.long)

        def loss(p):
            lp = F.log_softmax(p, -1).transpose(0, 1)
            return F.ctc_loss(lp, targets, ft, lt, blank=0, reduction="none").mean()

        return loss

    def steps(fn, x):
        xt = torch.tensor(x)

        def step():
            p = xt.detach().requires_grad_(True)
            v = fn(p)
            (g,) = torch.autograd.grad(v, p)
            return v.detach(), g

        return {"eager": step}

    def to_numpy(result):
        return float(result[0]), result[1].numpy()

    return {
        "native_name": "F.ctc_loss",
        "native": native,
        "steps": steps,
        "to_numpy": to_numpy,
        "versions": {"torch": torch.__version__},
        "threads": {"torch": torch.get_num_threads()},
    }


def jax_backend(threads):
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax

    def native(data):
        x, y, lengths, frames = data
        labels = jnp.asarray(np.where(y < 0, 0, y))
        label_pad = jnp.asarray((y < 0).astype(np.float32))
        logit_pad = jnp.asarray((np.arange(x.shape[1])[None] >= frames[:, None]).astype(np.float32))
        return lambda p: optax.ctc_loss(p, logit_pad, labels, label_pad, blank_id=0).mean()

    def steps(fn, x):
        xj = jnp.asarray(x)
        f = jax.jit(jax.value_and_grad(fn))

        def step():
            return jax.block_until_ready(f(xj))

        return {"jit": step}

    def to_numpy(result):
        return float(result[0]), np.asarray(result[1])

    return {
        "native_name": "optax.ctc_loss",
        "native": native,
        "steps": steps,
        "to_numpy": to_numpy,
        "versions": {"jax": jax.__version__, "optax": optax.__version__},
        "threads": {},
    }


def tensorflow_backend(threads):
    import numpy as np
    import tensorflow as tf

    if threads > 0:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)

    def native(data):
        x, y, lengths, frames = data
        labels = tf.constant(np.where(y < 0, 0, y))
        lt, ft = tf.constant(lengths), tf.constant(frames)
        return lambda p: tf.reduce_mean(
            tf.nn.ctc_loss(labels, p, lt, ft, logits_time_major=False, blank_index=0)
        )

    def compiled(fn, jit):
        @tf.function(jit_compile=jit)
        def vg(p):
            with tf.GradientTape() as tape:
                tape.watch(p)
                v = fn(p)
            return v, tape.gradient(v, p)

        return vg

    def steps(fn, x):
        xt = tf.constant(x)
        out = {}
        for mode, jit in (("function", False), ("xla", True)):
            vg = compiled(fn, jit)

            def step(vg=vg):
                v, g = vg(xt)
                return v.numpy(), g.numpy()

            out[mode] = step
        return out

    def to_numpy(result):
        return float(result[0]), np.asarray(result[1])

    return {
        "native_name": "tf.nn.ctc_loss",
        "native": native,
        "steps": steps,
        "to_numpy": to_numpy,
        "versions": {"tensorflow": tf.__version__},
        "threads": {
            "intra": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter": tf.config.threading.get_inter_op_parallelism_threads(),
        },
    }


# --------------------------------------------------------------------------- worker


def run_worker(args, argv):
    malloc_env = configure_malloc(args.malloc, argv, script=__file__)
    thread_env = configure_thread_env(args.threads)
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend not in BACKENDS:
        sys.exit(f"bench_ctc.py: KERAS_BACKEND must be one of {BACKENDS}")
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)

    import keras
    import numpy as np

    import kloss

    bk = {"torch": torch_backend, "jax": jax_backend, "tensorflow": tensorflow_backend}[backend](
        args.threads
    )
    header = {
        "backend": backend,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "affinity_cpus": affinity(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {"keras": keras.__version__, "numpy": np.__version__, **bk["versions"]},
        "threads": {**thread_env, **bk["threads"]},
        "malloc": malloc_env,
        "sizes": ["x".join(map(str, s)) for s in args.sizes],
        "rounds": args.rounds,
        "min_sample_ms": args.min_sample_ms,
        "quick": args.quick,
        "loadavg_start": loadavg(),
    }
    print(
        f"[{backend}] keras {keras.__version__}, threads {args.threads}, "
        f"malloc {malloc_env['mode']}",
        flush=True,
    )
    print(
        f"{'size':14} {'mode':9} {'reference':16} {'kloss ms':>9} {'ref ms':>9} "
        f"{'ratio':>6} {'q1-q3':>11}  check",
        flush=True,
    )
    loss = kloss.CTC()
    keras_loss = keras.losses.CTC()
    records = []
    for size in args.sizes:
        data = make_inputs(size)
        x, y = data[0], data[1]
        keras_y = np.where(y < 0, 0, y)  # keras.losses.CTC pads with its blank 0
        refs = [(bk["native_name"], bk["native"](data))]
        if not args.no_keras:
            refs.append(("keras.losses.CTC", lambda p, t=keras_y: keras_loss(t, p)))
        kloss_steps = bk["steps"](lambda p, t=y: loss(t, p), x)
        for ref_name, ref_fn in refs:
            ref_steps = bk["steps"](ref_fn, x)
            for mode, kloss_step in kloss_steps.items():
                rec = {
                    "backend": backend,
                    "mode": mode,
                    "size": "x".join(map(str, size)),
                    "reference": ref_name,
                }
                try:
                    ref_step = ref_steps[mode]
                    rec.update(check_values(bk["to_numpy"], kloss_step(), ref_step()))
                    rec["check"] = "ok" if rec["value_ok"] and rec["grad_ok"] else "MISMATCH"
                    rec.update(
                        time_case(kloss_step, ref_step, args.rounds, args.min_sample_ms / 1e3)
                    )
                except Exception as e:  # a failed case is reported, the others still run
                    rec["error"] = f"{type(e).__name__}: {e}"[:300]
                records.append(rec)
                _print(rec)
    header["loadavg_end"] = loadavg()
    with open(args.json, "w") as f:
        json.dump({"header": header, "records": records}, f, indent=1, default=_jsonable)
    return 0


def _jsonable(value):
    try:
        return value.item()
    except AttributeError:
        return str(value)


def _print(rec):
    if "error" in rec:
        print(f"{rec['size']:14} {rec['mode']:9} {rec['reference']:16} ERROR {rec['error']}")
        return
    print(
        f"{rec['size']:14} {rec['mode']:9} {rec['reference']:16} {rec['kloss_us'] / 1e3:9.2f} "
        f"{rec['native_us'] / 1e3:9.2f} {rec['ratio']:6.2f} "
        f"{rec['ratio_q1']:5.2f}-{rec['ratio_q3']:5.2f}  {rec['check']}",
        flush=True,
    )


# --------------------------------------------------------------------------- report


def _target_size():
    return "x".join(map(str, TARGET_SIZE))


def write_md(path, merged):
    runs = merged["runs"]
    lines = [
        "# CTC benchmark results",
        "",
        "Generated by `benchmarks/bench_ctc.py` (never edit by hand). Value and gradient of "
        "the mean CTC loss over the batch, `kloss.CTC()` against each backend's native CTC "
        "and `keras.losses.CTC`; ratio = median over rounds of kloss time / reference time "
        "(below 1: kloss is faster). Sizes are `BxTxCxL` (batch, frames, classes, longest "
        f"label). Target: ratio <= {TARGET_RATIO:.2f} against the native loss at "
        f"{_target_size()}.",
        "",
        f"Command: `{merged['command']}`",
        "",
    ]
    for run in runs:
        lines.append(
            f"- {run['backend']}: {run['date']}, {run['cpu_model']} ({run['cpu_count']} CPUs, "
            f"affinity {run['affinity_cpus']}), load {run['loadavg_start']} -> "
            f"{run.get('loadavg_end')}, versions "
            + ", ".join(f"{k} {v}" for k, v in run["versions"].items())
            + f", threads {run['threads'].get('requested')}, malloc {run['malloc']['mode']}"
            + (", **quick run**" if run.get("quick") else "")
        )
    lines += [
        "",
        "| backend | mode | size | reference | kloss ms | reference ms | ratio | q1-q3 | check |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    misses = []
    for r in merged["records"]:
        head = f"| {r['backend']} | {r['mode']} | {r['size']} | {r['reference']} |"
        if "error" in r:
            lines.append(f"{head} | | | | error: {r['error']} |")
            continue
        lines.append(
            f"{head} {r['kloss_us'] / 1e3:.2f} | {r['native_us'] / 1e3:.2f} | "
            f"{r['ratio']:.2f} | {r['ratio_q1']:.2f}-{r['ratio_q3']:.2f} | {r['check']} |"
        )
        native = not r["reference"].startswith("keras")
        if native and r["size"] == _target_size() and r["ratio"] > TARGET_RATIO:
            misses.append(f"{r['backend']} {r['mode']}: {r['ratio']:.2f}")
    lines += ["", "## Summary", ""]
    checked = [r for r in merged["records"] if r["size"] == _target_size()]
    if not checked:
        lines.append(f"The target size {_target_size()} was not run.")
    elif misses:
        lines.append("Target misses: " + "; ".join(misses) + ".")
    else:
        lines.append(
            f"Every backend is within {TARGET_RATIO:.2f} of its native CTC at {_target_size()}."
        )
    bad = [r for r in merged["records"] if r.get("check") == "MISMATCH" or "error" in r]
    if bad:
        lines.append("")
        lines.append(
            "Mismatches or errors: "
            + "; ".join(f"{r['backend']} {r['mode']} {r['size']} {r['reference']}" for r in bad)
            + "."
        )
    if merged.get("failed_backends"):
        lines.append("")
        lines.append("Failed backends: " + ", ".join(merged["failed_backends"]) + ".")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {path}")


# --------------------------------------------------------------------------- driver


def run_driver(args, argv):
    if args.render:
        with open(args.render) as f:
            merged = json.load(f)
        write_md(args.md, merged)
        return 0
    os.makedirs(args.out_dir, exist_ok=True)
    passthrough = _strip(argv, ("--backends", "--out-dir", "--md", "--render"), ("--no-md",))
    results, failed = [], []
    t0 = time.perf_counter()
    for backend in args.backends:
        path = os.path.join(args.out_dir, f"{backend}.json")
        if os.path.exists(path):
            os.remove(path)
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--json", path, *passthrough]
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
        print(f"\n$ KERAS_BACKEND={backend} {shlex.join(cmd)}", flush=True)
        rc = subprocess.run(cmd, env=env, cwd=ROOT).returncode
        if not os.path.exists(path):
            print(f"!!! {backend}: exited with {rc}, no results", file=sys.stderr)
            failed.append(backend)
            continue
        with open(path) as f:
            results.append(json.load(f))
    merged = {
        "runs": [r["header"] for r in results],
        "records": [rec for r in results for rec in r["records"]],
        "failed_backends": failed,
        "command": shlex.join(["python", "benchmarks/bench_ctc.py", *argv]),
        "wall_s": time.perf_counter() - t0,
    }
    path = os.path.join(args.out_dir, "results.json")
    with open(path, "w") as f:
        json.dump(merged, f, indent=1)
    print(f"\nwrote {path} ({merged['wall_s']:.0f} s)")
    if not args.no_md:
        write_md(args.md, merged)
    bad = failed or any("error" in r or r.get("check") == "MISMATCH" for r in merged["records"])
    return 1 if bad else 0


def _strip(argv, with_value, flags):
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in flags:
            continue
        if a in with_value:
            skip = True
            continue
        if any(a.startswith(f"{w}=") for w in with_value):
            continue
        out.append(a)
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.worker:
        if not args.json:
            sys.exit("--worker needs --json")
        return run_worker(args, argv)
    return run_driver(args, argv)


if __name__ == "__main__":
    sys.exit(main())
