"""Times kloss's segmentation losses (Dice, Lovasz, SSIM) on every backend against MONAI,
an smp-style Lovasz and kornia on torch.

    python benchmarks/bench_segmentation.py [--backends torch,jax,tensorflow]
        [--losses Dice,Lovasz,SSIM] [--channels 1,21] [--shape 16,256,256]
        [--torch-modes eager,compile] [--rounds N] [--case-seconds S] [--quick]
        [--md benchmarks/RESULTS_SEGMENTATION.md | --no-md] [--render RESULTS_JSON]

The driver runs one worker process per backend (`--worker`; Keras fixes its backend at
import), torch first, merges their JSON into `build/bench/segmentation/results.json` and
writes `benchmarks/RESULTS_SEGMENTATION.md` (generated; never edit it by hand). One call =
value and gradient (with respect to `y_pred`) of the scalar loss, kloss's class with its
default reduction, on `(B, H, W, C)` inputs (default 16 x 256 x 256, C = 1 and 21), float32:

- torch: kloss against the native loss on the same data in its own layout `(B, C, H, W)`:
  MONAI `DiceLoss`, the smp-style `LovaszLoss` of `tests/test_lovasz.py` (Berman's reference
  code: a Python loop over images and classes), kornia `ssim_loss`; both sides eager, then
  both under `torch.compile` (the loss function compiled, `torch.autograd.grad` outside).
  Before timing, kloss's value and gradient are checked against the native ones.
- jax (`jax.jit`) and tensorflow (`tf.function(jit_compile=True)`): kloss alone; the report
  puts its time next to the torch native's eager time from the same run on the same machine.

`kloss.Dice` and `kloss.SSIM` are used when the installed kloss has them; otherwise each
worker prints a note and skips them. Timing reuses `bench.py` (interleaved rounds, medians,
glibc's malloc pinned, 1 thread per library) and `bench_metric.py`'s round planning.
`--quick` is a smoke test (2 x 32 x 32, C = 1 and 3, few rounds): its numbers mean nothing.
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
    configure_malloc,
    configure_thread_env,
    cpu_model,
    loadavg,
    time_case,
)
from bench_metric import _probe, _strip, plan, time_single  # noqa: E402

BACKENDS = ("torch", "jax", "tensorflow")
LOSSES = ("Dice", "Lovasz", "SSIM")
SHAPE = (16, 256, 256)
CHANNELS = (1, 21)
QUICK_SHAPE = (2, 32, 32)
QUICK_CHANNELS = (1, 3)
TORCH_MODES = ("eager", "compile")
TARGET_RATIO = 1.25  # kloss / MONAI, kornia (and smp-style Lovasz) on torch
DICE_SMOOTH = 1e-5
VALUE_RTOL = 1e-4
VALUE_ATOL = 1e-6
GRAD_TOL = 1e-3  # max |g_kloss - g_native| relative to max |g_native|
SEED = 20261126
OUT_DIR = os.path.join(ROOT, "build", "bench", "segmentation")
MD = os.path.join(HERE, "RESULTS_SEGMENTATION.md")
NATIVE = {
    "Dice": "MONAI DiceLoss",
    "Lovasz": "smp-style LovaszLoss (tests/test_lovasz.py)",
    "SSIM": 'kornia ssim_loss(padding="valid")',
}


# --------------------------------------------------------------------------- arguments


def _ints(text, n=None):
    out = [int(s) for s in text.split(",") if s.strip()]
    if not out or any(v < 1 for v in out) or (n is not None and len(out) != n):
        raise argparse.ArgumentTypeError(f"expected {n or 'some'} positive integers: {text!r}")
    return out


def _losses(text):
    lowered = {n.lower(): n for n in LOSSES}
    out = []
    for item in filter(None, (s.strip().lower() for s in text.split(","))):
        if item not in lowered:
            raise argparse.ArgumentTypeError(f"unknown loss {item!r}; choose from {LOSSES}")
        out.append(lowered[item])
    return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backends", default=",".join(BACKENDS), help="driver: default all three")
    p.add_argument("--losses", type=_losses, default=list(LOSSES), help="Dice,Lovasz,SSIM")
    p.add_argument("--channels", type=_ints, default=None, help="C values (default 1,21)")
    p.add_argument(
        "--shape", type=lambda t: _ints(t, 3), default=None, help="B,H,W (default 16,256,256)"
    )
    p.add_argument(
        "--torch-modes",
        default=",".join(TORCH_MODES),
        help="eager and/or compile (torch.compile of both sides); default both",
    )
    p.add_argument("--quick", action="store_true", help="smoke test: tiny sizes, few rounds")
    p.add_argument("--rounds", type=int, default=None, help="most timed rounds per case (15)")
    p.add_argument("--min-rounds", type=int, default=None, help="fewest rounds per case (3)")
    p.add_argument(
        "--case-seconds",
        type=float,
        default=None,
        help="rounds per case: as many as fit in this many seconds, within the bounds (10)",
    )
    p.add_argument("--min-sample-ms", type=float, default=1.0, help="as bench.py (default 1)")
    p.add_argument("--threads", type=int, default=1, help="as bench.py (default 1)")
    p.add_argument("--malloc", choices=("pinned", "default"), default="pinned")
    p.add_argument("--out-dir", default=OUT_DIR, help="JSON results (build/bench/segmentation)")
    p.add_argument("--md", default=MD, help="the report (benchmarks/RESULTS_SEGMENTATION.md)")
    p.add_argument("--no-md", action="store_true", help="do not write the report")
    p.add_argument("--render", metavar="RESULTS_JSON", help="only rewrite the report from JSON")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    quick = args.quick
    args.shape = args.shape or list(QUICK_SHAPE if quick else SHAPE)
    args.channels = args.channels or list(QUICK_CHANNELS if quick else CHANNELS)
    args.rounds = args.rounds or (3 if quick else 15)
    args.min_rounds = args.min_rounds or (2 if quick else 3)
    args.case_seconds = args.case_seconds or (0.3 if quick else 10.0)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not args.backends or any(b not in BACKENDS for b in args.backends):
        p.error(f"--backends: choose from {', '.join(BACKENDS)}")
    args.torch_modes = [m.strip() for m in args.torch_modes.split(",") if m.strip()]
    if not args.torch_modes or any(m not in TORCH_MODES for m in args.torch_modes):
        p.error(f"--torch-modes: choose from {', '.join(TORCH_MODES)}")
    if args.min_rounds < 1 or args.rounds < args.min_rounds:
        p.error("need 1 <= --min-rounds <= --rounds")
    return args


# --------------------------------------------------------------------------- inputs


def make_inputs(loss, shape, channels):
    """(kloss y_true, kloss y_pred) channels last, as NumPy arrays, and the native pair
    channels first (torch's layout)."""
    import numpy as np

    B, H, W = shape
    rng = np.random.default_rng(SEED + channels)
    if loss == "SSIM":
        y_true = rng.uniform(size=(B, H, W, channels)).astype(np.float32)
        noise = rng.normal(scale=0.1, size=y_true.shape)
        y_pred = np.clip(y_true + noise, 0.0, 1.0).astype(np.float32)
        return (y_true, y_pred), (_first(y_true), _first(y_pred))
    # Labels constant over 8 x 8 blocks (segment-like regions), logits leaning to the label.
    blocks = (B, -(-H // 8), -(-W // 8))
    n_labels = 2 if channels == 1 else channels
    labels = rng.integers(0, n_labels, size=blocks)
    labels = labels.repeat(8, axis=1).repeat(8, axis=2)[:, :H, :W].astype(np.int32)
    if channels == 1:
        onehot = labels[..., None].astype(np.float32)
    else:
        onehot = np.eye(channels, dtype=np.float32)[labels]
    logits = (2.0 * onehot - 1.0 + rng.normal(scale=1.5, size=onehot.shape)).astype(np.float32)
    if loss == "Dice" and channels == 1:
        k_true, n_true = onehot, _first(onehot)  # float masks, as MONAI takes them
    elif channels == 1:
        k_true, n_true = labels, labels[:, None].astype(np.int64)  # Lovasz binary
    elif loss == "Dice":
        k_true, n_true = labels, labels[:, None].astype(np.int64)  # MONAI: (B, 1, H, W)
    else:
        k_true, n_true = labels, labels.astype(np.int64)  # smp: (B, H, W) class indices
    return (k_true, logits), (n_true, _first(logits))


def _first(x):
    import numpy as np

    return np.ascontiguousarray(np.moveaxis(x, -1, 1))


def kloss_instance(kloss, loss, channels):
    if loss == "Dice":
        mode = "binary" if channels == 1 else "multiclass"
        return kloss.Dice(mode=mode, from_logits=True, smooth=DICE_SMOOTH)
    if loss == "Lovasz":
        return kloss.Lovasz(mode="binary" if channels == 1 else "multiclass", per_image=True)
    return kloss.SSIM(max_val=1.0, filter_size=11, filter_sigma=1.5)


def missing_note(kloss, loss):
    if hasattr(kloss, loss):
        return None
    return f"kloss.{loss} is not in this kloss (another engineer's module): skipped"


# --------------------------------------------------------------------------- torch natives


def torch_native(loss, channels):
    """(fn(y_true, y_pred) -> scalar, value relation) with y_pred channels first."""
    if loss == "Dice":
        from monai.losses import DiceLoss

        kw = dict(smooth_nr=DICE_SMOOTH, smooth_dr=DICE_SMOOTH, reduction="mean")
        if channels == 1:
            fn = DiceLoss(sigmoid=True, **kw)
        else:
            fn = DiceLoss(softmax=True, to_onehot_y=True, **kw)
        return (lambda t, p: fn(p, t)), 1.0
    if loss == "Lovasz":
        if ROOT not in sys.path:
            sys.path.insert(0, ROOT)
        from tests.test_lovasz import smp_lovasz_loss

        fn = smp_lovasz_loss("binary" if channels == 1 else "multiclass", per_image=True)
        return (lambda t, p: fn(p, t)), 1.0
    import kornia

    def ssim(t, p):
        return kornia.losses.ssim_loss(p, t, window_size=11, max_val=1.0, padding="valid")

    return ssim, 2.0  # kloss SSIM = 1 - SSIM = 2 x kornia's (1 - SSIM) / 2


# --------------------------------------------------------------------------- backends
#
# make_step(fn, y_true, y_pred) -> step: step() computes value and gradient w.r.t. y_pred,
# waits for both and returns them.


def torch_backend(threads):
    import keras
    import torch

    if threads > 0:
        torch.set_num_threads(threads)

    def make_step(fn, y_true, y_pred, compiled=False):
        t = keras.ops.convert_to_tensor(y_true)
        p = keras.ops.convert_to_tensor(y_pred).detach().clone().requires_grad_(True)
        f = torch.compile(fn) if compiled else fn

        def step():
            v = f(t, p)
            (g,) = torch.autograd.grad(v, p)
            return v, g

        return step

    def to_numpy(result):
        v, g = result
        return float(v.detach()), g.detach().numpy()

    versions = {"torch": torch.__version__}
    for name in ("monai", "kornia"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            versions[name] = "not installed"
    return dict(make_step=make_step, to_numpy=to_numpy, versions=versions)


def jax_backend(threads):
    import jax
    import keras
    import numpy as np

    def make_step(fn, y_true, y_pred, compiled=True):
        t = keras.ops.convert_to_tensor(y_true)
        p = keras.ops.convert_to_tensor(y_pred)
        step_fn = jax.jit(jax.value_and_grad(lambda p_, t_: fn(t_, p_)))

        def step():
            return jax.block_until_ready(step_fn(p, t))

        return step

    def to_numpy(result):
        v, g = result
        return float(v), np.asarray(g)

    return dict(make_step=make_step, to_numpy=to_numpy, versions={"jax": jax.__version__})


def tensorflow_backend(threads):
    import keras
    import tensorflow as tf

    if threads > 0:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            pass

    def make_step(fn, y_true, y_pred, compiled=True):
        t = keras.ops.convert_to_tensor(y_true)
        p = keras.ops.convert_to_tensor(y_pred)

        @tf.function(jit_compile=True)
        def value_and_grad(t_, p_):
            with tf.GradientTape() as tape:
                tape.watch(p_)
                v = fn(t_, p_)
            return v, tape.gradient(v, p_)

        def step():
            v, g = value_and_grad(t, p)
            v.numpy()  # TF runs synchronously on CPU; reading the scalar makes sure
            return v, g

        return step

    def to_numpy(result):
        v, g = result
        return float(v.numpy()), tf.convert_to_tensor(g).numpy()

    return dict(make_step=make_step, to_numpy=to_numpy, versions={"tensorflow": tf.__version__})


MODE_NAMES = {
    ("torch", "eager"): "eager",
    ("torch", "compile"): "torch.compile",
    ("jax", "compile"): "jax.jit",
    ("tensorflow", "compile"): "tf.function(jit_compile=True)",
}


# --------------------------------------------------------------------------- worker


def compare(to_numpy, kloss_result, native_result, factor):
    import numpy as np

    kv, kg = to_numpy(kloss_result)
    nv, ng = to_numpy(native_result)
    nv, ng = nv * factor, _last(ng) * factor  # the native gradient back to channels last
    scale = float(np.max(np.abs(ng))) or 1.0
    same = kg.shape == ng.shape
    err = float(np.max(np.abs(kg.astype(np.float64) - ng))) / scale if same else float("inf")
    return {
        "kloss_value": kv,
        "native_value": nv,
        "value_ok": bool(np.isclose(kv, nv, rtol=VALUE_RTOL, atol=VALUE_ATOL)),
        "grad_rel_err": err,
        "grad_ok": bool(err <= GRAD_TOL),
    }


def _last(x):
    import numpy as np

    return np.moveaxis(x, 1, -1)


def fmt_line(r):
    head = f"{r['loss']:7} C={r['channels']:<3d} {r['mode']:30}"
    if "error" in r:
        return f"{head} ERROR: {r['error']}"
    if r.get("skipped"):
        return f"{head} skipped: {r['skipped']}"
    native = f"{r['native_us'] / 1e3:10.2f}" if r.get("native_us") else f"{'-':>10}"
    ratio = f"{r['ratio']:6.2f}" if r.get("ratio") else f"{'-':>6}"
    return (
        f"{head} {r['kloss_us'] / 1e3:10.2f} {native} {ratio} {r['rounds']:3d}  "
        f"{r.get('check', '-')}"
    )


def run_worker(args, argv):
    malloc_env = configure_malloc(args.malloc, argv, script=__file__)
    thread_env = configure_thread_env(args.threads)
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend not in BACKENDS:
        sys.exit(f"bench_segmentation.py: KERAS_BACKEND must be one of {BACKENDS}")
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)

    import keras
    import numpy as np

    import kloss

    bk = {"torch": torch_backend, "jax": jax_backend, "tensorflow": tensorflow_backend}[backend](
        args.threads
    )
    modes = args.torch_modes if backend == "torch" else ["compile"]
    header = {
        "backend": backend,
        "modes": [MODE_NAMES[(backend, m)] for m in modes],
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "affinity_cpus": affinity(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {"keras": keras.__version__, "numpy": np.__version__, **bk["versions"]},
        "threads": {**thread_env},
        "malloc": malloc_env,
        "shape": args.shape,
        "channels": args.channels,
        "losses": args.losses,
        "quick": args.quick,
        "rounds_max": args.rounds,
        "rounds_min": args.min_rounds,
        "case_seconds": args.case_seconds,
        "min_sample_ms": args.min_sample_ms,
        "tolerances": {"value_rtol": VALUE_RTOL, "value_atol": VALUE_ATOL, "grad": GRAD_TOL},
        "notes": [n for n in (missing_note(kloss, loss) for loss in args.losses) if n],
        "loadavg_start": loadavg(),
    }
    print(
        f"[{backend}] keras {keras.__version__}, threads {args.threads}, malloc "
        f"{malloc_env['mode']}, shape {args.shape}, C {args.channels}",
        flush=True,
    )
    for note in header["notes"]:
        print(f"NOTE: {note}", flush=True)
    print(
        f"{'loss':7} {'C':5} {'mode':30} {'kloss ms':>10} {'native ms':>10} {'ratio':>6} "
        f"{'rds':>3}  check",
        flush=True,
    )
    records = []
    for channels in args.channels:
        for loss in args.losses:
            for mode in modes:
                rec = run_case(args, bk, kloss, backend, mode, loss, channels)
                print(fmt_line(rec), flush=True)
                records.append(rec)
    header["loadavg_end"] = loadavg()
    out = {"header": header, "records": records}
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {args.json}", flush=True)
    return 1 if any("error" in r for r in records) else 0


def run_case(args, bk, kloss, backend, mode, loss, channels):
    rec = {
        "backend": backend,
        "mode": MODE_NAMES[(backend, mode)],
        "loss": loss,
        "channels": channels,
        "shape": [*args.shape, channels],
    }
    note = missing_note(kloss, loss)
    if note:
        rec["skipped"] = note
        return rec
    compiled = mode == "compile"
    try:
        (k_true, k_pred), (n_true, n_pred) = make_inputs(loss, args.shape, channels)
        k_loss = kloss_instance(kloss, loss, channels)
        k_step = bk["make_step"](lambda t, p: k_loss(t, p), k_true, k_pred, compiled=compiled)
        t0 = time.perf_counter()
        k_result = k_step()  # warm-up, compilation included
        rec["kloss_first_call_s"] = time.perf_counter() - t0
        k_s = _probe(k_step)
        if backend != "torch":
            repeats, rounds = plan([k_s], args)
            rec.update(time_single(k_step, rounds, repeats), rounds=rounds)
            rec["kloss_value"] = bk["to_numpy"](k_result)[0]
            return rec
        native, factor = torch_native(loss, channels)
        n_step = bk["make_step"](native, n_true, n_pred, compiled=compiled)
        t0 = time.perf_counter()
        n_result = n_step()
        rec["native_first_call_s"] = time.perf_counter() - t0
        rec["native_name"] = NATIVE[loss]
        check_result = n_result
        if loss == "Lovasz":
            # The smp-style gradient takes differences of float32 cumulative Jaccard values
            # near 1 (2.8e-3 of its largest entry from its own float64 run at 256 x 256,
            # where kloss's is 4.8e-5): kloss is checked against the float64 run.
            n_pred64 = n_pred.astype("float64")
            check_result = bk["make_step"](native, n_true, n_pred64, compiled=False)()
        rec.update(compare(bk["to_numpy"], k_result, check_result, factor))
        rec["check"] = "ok" if rec["value_ok"] and rec["grad_ok"] else "MISMATCH"
        n_s = _probe(n_step)
        repeats, rounds = plan([k_s, n_s], args)
        rec.update(
            time_case(k_step, n_step, rounds, args.min_sample_ms / 1e3, repeats=repeats),
            rounds=rounds,
        )
    except Exception as e:
        rec["error"] = f"{type(e).__name__}: {e}".splitlines()[0][:300]
    return rec


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
    # torch first: the JAX and TF rows are read against its native times.
    for backend in sorted(args.backends, key=BACKENDS.index):
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
        "command": shlex.join(["python", "benchmarks/bench_segmentation.py", *argv]),
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


# --------------------------------------------------------------------------- report


def _ms(us):
    if not us:
        return "-"
    ms = us / 1e3
    return f"{ms:,.2f}" if ms < 10 else f"{ms:,.1f}" if ms < 1000 else f"{ms:,.0f}"


def _ratio(x):
    return "-" if not x else f"{x:.2f}"


def _cell(r, key="kloss_us"):
    if r is None:
        return "-"
    if "error" in r:
        return "error"
    if r.get("skipped"):
        return "skipped"
    return _ms(r.get(key))


def markdown(merged):
    runs = merged["runs"]
    recs = merged["records"]
    first = runs[0] if runs else {}
    quick = any(h.get("quick") for h in runs)
    shape = "x".join(str(s) for s in first.get("shape", SHAPE))
    channels = sorted({r["channels"] for r in recs})
    by = {(r["backend"], r["mode"], r["loss"], r["channels"]): r for r in recs}
    losses = [name for name in LOSSES if any(r["loss"] == name for r in recs)]
    out = ["# kloss segmentation benchmark", ""]
    if quick:
        out += [
            "**`--quick` smoke run (tiny inputs, few rounds): these numbers are not a "
            "measurement.**",
            "",
        ]
    out += [
        "Generated by `benchmarks/bench_segmentation.py`; do not edit by hand (the method is "
        "in that script's docstring and below).",
        "",
        f"Command: `{merged.get('command', '?')}` ({merged.get('wall_s', 0):.0f} s)",
        "",
        "## Machine",
        "",
        f"- CPU: {first.get('cpu_model', '?')}; {first.get('cpu_count', '?')} logical CPUs "
        f"({first.get('affinity_cpus', '?')} usable)",
        f"- Platform: {first.get('platform', '?')}; Python {first.get('python', '?')}",
    ]
    for h in runs:
        versions = ", ".join(f"{k} {v}" for k, v in h["versions"].items())
        out.append(
            f"- {h['backend']} ({', '.join(h['modes'])}): {versions}; threads "
            f"{h['threads'].get('requested')}; malloc {h['malloc'].get('mode')}; load average "
            f"{h['loadavg_start']} at start, {h['loadavg_end']} at end"
        )
    if merged.get("failed_backends"):
        out.append(f"- failed backends (no results): {', '.join(merged['failed_backends'])}")
    notes = sorted({n for h in runs for n in h.get("notes", [])})
    out += [
        "",
        "## Method",
        "",
        f"Inputs `(B, H, W, C)` = {shape} x C for C in {channels}, float32. One call = value "
        "and gradient w.r.t. `y_pred` of the scalar loss, kloss's class with its default "
        "reduction (channels last), against the native loss on torch in its own layout "
        "(channels first, prepared before timing):",
        "",
        f"- Dice: `kloss.Dice(mode, from_logits=True, smooth={DICE_SMOOTH})` against MONAI "
        "`DiceLoss(sigmoid=True)` (C = 1, float masks) or `DiceLoss(softmax=True, "
        "to_onehot_y=True)` (int labels); labels constant on 8 x 8 blocks, logits leaning "
        "toward them (`2 onehot - 1 + N(0, 1.5)`).",
        "- Lovasz: `kloss.Lovasz(mode, per_image=True)` (Lovasz-hinge for C = 1, "
        "Lovasz-softmax for C > 1) against segmentation_models_pytorch's `LovaszLoss` "
        "re-implemented from its public code in `tests/test_lovasz.py` (a Python loop over "
        "images and present classes, one `torch.sort` each); same inputs as Dice.",
        "- SSIM: `kloss.SSIM(max_val=1, filter_size=11, filter_sigma=1.5)` against kornia "
        '`ssim_loss(window_size=11, max_val=1, padding="valid")` (kloss = 2 x kornia: '
        '`1 - SSIM` against `(1 - SSIM) / 2`; kornia\'s default `padding="same"` computes '
        "another value near the borders); images uniform in [0, 1], `y_pred` = `y_true` + "
        "N(0, 0.1), clipped.",
        "- torch: both sides eager, then both under `torch.compile` (the loss function; "
        "`torch.autograd.grad` outside). **ratio** = median of per-round kloss / native "
        "(interleaved rounds, alternating which goes first, as `bench.py`); `check`: kloss's "
        f"value (rtol {VALUE_RTOL}) and gradient ({GRAD_TOL} of the largest entry) equal the "
        "native ones (for Lovasz, the smp-style loss run in float64: its float32 gradient is "
        "2.8e-3 from that at 256 x 256, from differences of cumulative Jaccard values).",
        "- jax (`jax.jit`) and tensorflow (`tf.function(jit_compile=True)`): kloss alone; "
        "**vs torch** = kloss's time there / the torch native's eager time in this run "
        "(another framework, the same machine and inputs).",
        f"- Target: kloss / native <= {TARGET_RATIO} on torch.",
    ]
    if notes:
        out += ["", *[f"Note: {n}." for n in notes]]
    out += [
        "",
        "## Results: ms per call (value and gradient)",
        "",
        "| loss | C | torch native eager | kloss torch eager | ratio | torch native compiled "
        "| kloss torch.compile | ratio | kloss jax.jit | vs torch | kloss TF XLA | vs torch "
        "| check |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    misses = []
    for loss in losses:
        for c in channels:
            te = by.get(("torch", "eager", loss, c))
            tc = by.get(("torch", "torch.compile", loss, c))
            jx = by.get(("jax", "jax.jit", loss, c))
            tf = by.get(("tensorflow", "tf.function(jit_compile=True)", loss, c))
            native = te.get("native_us") if te and "error" not in te else None

            def vs(r, native=native):
                if not r or not native or not r.get("kloss_us"):
                    return "-"
                return _ratio(r["kloss_us"] / native)

            checks = sorted({r["check"] for r in (te, tc) if r and r.get("check")})
            out.append(
                f"| {loss} | {c} | {_cell(te, 'native_us')} | {_cell(te)} | "
                f"{_ratio(te and te.get('ratio'))} | {_cell(tc, 'native_us')} | {_cell(tc)} | "
                f"{_ratio(tc and tc.get('ratio'))} | {_cell(jx)} | {vs(jx)} | {_cell(tf)} | "
                f"{vs(tf)} | {', '.join(checks) or '-'} |"
            )
            for r in (te, tc):
                if r and r.get("ratio") and r["ratio"] > TARGET_RATIO:
                    misses.append(f"{loss} C={c} {r['mode']}: {r['ratio']:.2f}")
    errors = [
        f"{r['backend']} {r['mode']} {r['loss']} C={r['channels']}: {r['error']}"
        for r in recs
        if "error" in r
    ]
    out += ["", "## Target", ""]
    if quick:
        out.append("Not evaluated: a `--quick` run's tiny inputs time the fixed per-call costs.")
    else:
        out.append(
            f"kloss / native <= {TARGET_RATIO} on torch: "
            + ("met everywhere." if not misses else "missed for " + "; ".join(misses) + ".")
        )
    if errors:
        out += ["", "## Errors", "", *[f"- {e}" for e in errors]]
    out += [
        "",
        "First calls (seconds, compilation included) and the quartiles of every ratio are in "
        "`build/bench/segmentation/results.json`.",
        "",
    ]
    return "\n".join(out)


def write_md(path, merged):
    with open(path, "w") as f:
        f.write(markdown(merged))
    print(f"wrote {path}")


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
