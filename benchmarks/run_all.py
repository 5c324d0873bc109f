"""Runs bench.py once per backend, merges the results and writes benchmarks/RESULTS.md.

    python benchmarks/run_all.py [--backends tensorflow,jax,torch] [--out-dir build/bench]
        [--md benchmarks/RESULTS.md | --no-md] [bench.py options: --rounds N --sizes ...]

Options that run_all.py does not know are passed to every bench.py run unchanged. Each
backend runs in its own process (Keras fixes its backend at import). The per-backend JSON
files and the merged `results.json` go to `--out-dir`; RESULTS.md is generated from the merged
results only, never edited by hand.
"""

import argparse
import datetime
import json
import os
import shlex
import statistics
import subprocess
import sys

from bench import LOSS_WIDTH, LOSSES  # same folder; bench.py imports no backend at top level

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BENCH = os.path.join(HERE, "bench.py")
BACKENDS = ("tensorflow", "jax", "torch")
SIZE_ORDER = ("small", "medium", "large")
TARGET = 1.10  # compiled kloss / native at medium and large sizes (torch: eager)
# Targets other than TARGET, per (backend, mode, loss): torch's eager sparse cross-entropy
# against its fused kernel.
TARGETS = {("torch", "eager", "SparseCategoricalCrossentropy"): 1.25}
SMOKE_ROUNDS = 10  # fewer rounds than this mark RESULTS.md as a smoke run
LOSS_ORDER = LOSSES  # bench.py's order
SHORT = {
    "MeanSquaredError": "MSE",
    "MeanAbsoluteError": "MAE",
    "Huber": "Huber",
    "LogCosh": "LogCosh",
    "Pinball": "Pinball",
    "Poisson": "Poisson",
    "CosineProximity": "Cosine",
    "BinaryCrossentropy": "BCE",
    "BinaryFocalCrossentropy": "BinaryFocal",
    "CategoricalCrossentropy": "CCE",
    "CategoricalFocalCrossentropy": "CatFocal",
    "SparseCategoricalCrossentropy": "SparseCCE",
    "SparseCategoricalFocalCrossentropy": "SparseFocal",
    "KLDivergence": "KLD",
    "Hinge": "Hinge",
    "SquaredHinge": "SqHinge",
    "CategoricalHinge": "CatHinge",
}


def target(r):
    return TARGETS.get((r["backend"], r["mode"], r["loss"]), TARGET)


def target_text(backend, mode):
    """`1.10`, or `1.10 (SparseCCE 1.25)` where some losses have their own target."""
    extra = [
        f"{SHORT[loss]} {t:.2f}" for (b, m, loss), t in TARGETS.items() if (b, m) == (backend, mode)
    ]
    return f"{TARGET:.2f}" + (f" ({', '.join(extra)})" if extra else "")


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Run benchmarks/bench.py for every backend and write RESULTS.md.",
        epilog="Other options (--rounds, --sizes, --losses, --modes, --threads, "
        "--min-sample-ms, --warmup) are passed through to bench.py.",
    )
    p.add_argument("--backends", default=",".join(BACKENDS), help="default: all three")
    p.add_argument(
        "--out-dir",
        default=os.path.join(ROOT, "build", "bench"),
        help="where the JSON results go (default build/bench)",
    )
    p.add_argument(
        "--md",
        default=os.path.join(HERE, "RESULTS.md"),
        help="the Markdown report to write (default benchmarks/RESULTS.md)",
    )
    p.add_argument("--no-md", action="store_true", help="do not write the Markdown report")
    p.add_argument(
        "--render",
        metavar="RESULTS_JSON",
        help="run nothing: rewrite the Markdown report from a merged results.json",
    )
    args, passthrough = p.parse_known_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    bad = [b for b in backends if b not in BACKENDS]
    if bad or not backends:
        p.error(f"--backends: choose from {', '.join(BACKENDS)}; got {args.backends!r}")
    if any(a == "--json" or a.startswith("--json=") for a in passthrough):
        p.error("--json is set by run_all.py per backend; use --out-dir")
    args.backends = backends
    return args, passthrough


# --------------------------------------------------------------------------- running


def run_backend(backend, out_dir, passthrough):
    """Runs bench.py for one backend; returns its parsed JSON, or None if it failed."""
    path = os.path.join(out_dir, f"{backend}.json")
    if os.path.exists(path):
        os.remove(path)  # never merge a stale result from an earlier run
    cmd = [sys.executable, BENCH, "--json", path, *passthrough]
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    print(f"\n$ KERAS_BACKEND={backend} {shlex.join(cmd)}", flush=True)
    rc = subprocess.run(cmd, env=env, cwd=ROOT).returncode
    if not os.path.exists(path):
        print(f"!!! {backend}: bench.py exited with {rc} and wrote no results", file=sys.stderr)
        return None, rc
    with open(path) as f:
        return json.load(f), rc


def merge(results):
    merged = {"runs": [], "records": [], "eager_overhead": [], "mismatches": []}
    for data in results:
        merged["runs"].append(data["header"])
        for key in ("records", "eager_overhead", "mismatches"):
            merged[key].extend(data[key])
    return merged


# --------------------------------------------------------------------------- analysis


def sort_key(r):
    return (
        BACKENDS.index(r["backend"]),
        r["mode"] != "eager",
        SIZE_ORDER.index(r["size"]) if r["size"] in SIZE_ORDER else 9,
        LOSS_ORDER.index(r["loss"]) if r["loss"] in LOSS_ORDER else 99,
    )


def ok_records(records):
    return [r for r in records if "error" not in r]


def backend_summary(backend, records, overhead):
    """One line per backend: the target check at medium/large and the eager overhead."""
    recs = [r for r in ok_records(records) if r["backend"] == backend]
    big = [r for r in recs if r["size"] in ("medium", "large")]
    compiled = [r for r in big if r["mode"] == "compiled"]
    parts = []
    if compiled:
        checked, label = compiled, "compiled"
    else:
        checked = [r for r in big if r["mode"] == "eager"]
        label = "eager (no compiled mode benchmarked)"
    if checked:
        misses = sorted((r for r in checked if r["ratio"] > target(r)), key=lambda r: -r["ratio"])
        miss_text = (
            "misses: "
            + ", ".join(f"{SHORT[r['loss']]}@{r['size']} {r['ratio']:.2f}" for r in misses)
            if misses
            else "no misses"
        )
        worst = max(r["ratio"] for r in checked)
        parts.append(
            f"{label} ratio at medium/large: {len(checked) - len(misses)}/{len(checked)} "
            f"within target {target_text(backend, checked[0]['mode'])}, worst {worst:.2f}; "
            f"{miss_text}"
        )
    else:
        parts.append("no medium/large results")
    ov = [o for o in overhead if o["backend"] == backend]
    if ov:
        med = statistics.median(o["overhead_us"] for o in ov)
        each = ", ".join(f"{SHORT[o['loss']]} {o['overhead_us']:.0f}" for o in ov)
        parts.append(f"eager overhead per call at small: median {med:.0f} µs ({each})")
    else:
        parts.append("eager overhead at small: not measured")
    return "; ".join(parts)


# --------------------------------------------------------------------------- output


def text_table(records):
    head = (
        f"{'backend':10} {'mode':8} {'loss':{LOSS_WIDTH}} {'size':6} {'kloss us':>11} "
        f"{'native us':>11} {'ratio':>6}  check"
    )
    lines = [head, "-" * len(head)]
    for r in sorted(records, key=sort_key):
        lead = f"{r['backend']:10} {r['mode']:8} {r['loss']:{LOSS_WIDTH}} {r['size']:6}"
        if "error" in r:
            lines.append(f"{lead} ERROR: {r['error']}")
            continue
        check = "ok" if r["value_ok"] and r["grad_ok"] else "MISMATCH"
        lines.append(
            f"{lead} {r['kloss_us']:11.1f} {r['native_us']:11.1f} {r['ratio']:6.2f}  {check}"
        )
    return "\n".join(lines)


def _fmt_us(x):
    return f"{x:,.1f}" if x < 100 else f"{x:,.0f}"


def malloc_bullet(runs):
    modes = {h.get("malloc", {}).get("mode", "not recorded") for h in runs}
    faults = (
        "`results.json` keeps the minor page faults per call of each side (`kloss_faults`, "
        "`native_faults`)."
    )
    if modes == {"pinned"}:
        return (
            "- glibc's malloc pinned (`--malloc pinned`, the default): no mmap, no heap "
            "trimming, one arena, so freed large buffers are reused instead of being faulted "
            "in again by a later call (with glibc's defaults, which side paid ~4096 page faults "
            "per 16 MiB buffer depended on the allocation history, not on the loss). " + faults
        )
    return (
        f"- glibc's malloc: {', '.join(sorted(modes))} (not pinned everywhere): large-size "
        "ratios can include page faults that depend on the allocation history, not on the "
        "loss. " + faults
    )


def markdown(merged, failed, command):
    runs = merged["runs"]
    records = sorted(merged["records"], key=sort_key)
    first = runs[0] if runs else {}
    date = first.get("date") or datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    out = [
        "# kloss benchmark results",
        "",
        f"Generated by `benchmarks/run_all.py` from a run started {date}. Do not edit by "
        "hand: rerun "
        "`make bench` (see `benchmarks/README.md`).",
        "",
        f"Command: `{command}`",
        "",
    ]
    rounds = sorted({h["rounds"] for h in runs})
    if rounds and rounds[0] < SMOKE_ROUNDS:
        out += [
            f"> **Smoke run** ({rounds[0]} rounds per case): too few rounds for the ratios to "
            "be trusted; do not publish these numbers.",
            "",
        ]
    out += [
        "## Machine",
        "",
        f"- CPU: {first.get('cpu_model', '?')}; {first.get('cpu_count', '?')} logical CPUs "
        f"({first.get('affinity_cpus', '?')} usable by the process)",
        f"- Platform: {first.get('platform', '?')}; Python {first.get('python', '?')}",
    ]
    for h in runs:
        versions = ", ".join(f"{k} {v}" for k, v in h["versions"].items())
        threads = ", ".join(
            f"{k}={v}" for k, v in h["threads"].items() if k not in ("env", "requested")
        )
        malloc = h.get("malloc", {})
        tunables = malloc.get("GLIBC_TUNABLES")
        malloc_text = malloc.get("mode", "not recorded") + (
            f" (`GLIBC_TUNABLES={tunables}`)" if tunables else ""
        )
        out.append(
            f"- {h['backend']}: {versions}; threads requested {h['threads'].get('requested')}"
            f" ({threads}); malloc {malloc_text}; load average {h['loadavg_start']} at start, "
            f"{h['loadavg_end']} at end"
        )
    sizes = {}
    for h in runs:
        sizes.update(h["sizes"])
    size_text = ", ".join(f"{k} {v[0]}x{v[1]}" for k, v in sizes.items())
    min_ms = first.get("min_sample_ms", "?")
    tol = first.get("tolerances", {})
    hyper = first.get("hyper", {})
    out += [
        "",
        "## Method",
        "",
        "Each backend runs in its own process. For each loss, size (float32, "
        f"{size_text}) and mode, one call computes the scalar loss and its gradient with "
        "respect to `y_pred`: kloss's class called as `loss(y_true, y_pred)` (default "
        "reduction `sum_over_batch_size`) against the backend's native equivalent (named in "
        f"`results.json`). Hyperparameters: Huber delta={hyper.get('huber_delta')}, Pinball "
        f"quantile={hyper.get('quantile')}, Poisson log_input=False "
        f"(eps={hyper.get('poisson_eps')}), Cosine axis=-1; the cross-entropies, focal losses "
        "and KLDivergence take logits (`from_logits=True`), BinaryFocal alpha="
        f"{hyper.get('focal_alpha')} gamma={hyper.get('focal_gamma')}, the categorical focal "
        f"losses alpha=None gamma={hyper.get('focal_gamma')}.",
        "",
    ]
    inputs = {}
    for h in runs:
        inputs.update(h.get("inputs", {}))
    if inputs:
        out.append(
            "Inputs (seeded): "
            + "; ".join(f"{SHORT.get(k, k)}: {v}" for k, v in inputs.items())
            + "."
        )
        out.append("")
    out += [
        "- Modes: torch eager (`torch.autograd.grad`); JAX eager (`jax.value_and_grad`) and "
        "compiled (`jax.jit` of it); TensorFlow eager (`tf.GradientTape`) and compiled "
        "(`tf.function(jit_compile=True)` around tape and loss). kloss and native are compiled "
        "the same way.",
        malloc_bullet(runs),
        f"- Warm-up calls (compilation included), then a repeat count per case so that each "
        f"timed sample lasts at least {min_ms} ms; each call waits for its value and "
        "gradient.",
        f"- {', '.join(map(str, rounds))} rounds per case; in each round one kloss sample and "
        "one native sample, interleaved, alternating which goes first. Times are medians of "
        "the per-call times; the ratio is the median of the per-round ratios kloss / native "
        "(lower is better, 1.00 is parity).",
        f"- Before timing, kloss's value must equal native's (rtol {tol.get('value_rtol')}, "
        f"atol {tol.get('value_atol')}) and its gradient match to {tol.get('grad')} of the "
        "largest gradient entry.",
        "",
        "## Summary",
        "",
        f"Target: compiled kloss / native <= {TARGET:.2f} at medium and large sizes; torch, "
        "benchmarked eager only, is checked on its eager ratio"
        + "".join(
            f"; {loss} {backend} {mode} <= {t:.2f}" for (backend, mode, loss), t in TARGETS.items()
        )
        + ".",
        "",
    ]
    present = [b for b in BACKENDS if any(h["backend"] == b for h in runs)]
    for b in present:
        out.append(f"- **{b}**: {backend_summary(b, records, merged['eager_overhead'])}")
    for b in failed:
        out.append(f"- **{b}**: FAILED, no results (see the run's output)")
    errors = [r for r in records if "error" in r]
    out += ["", "## Value checks", ""]
    if merged["mismatches"]:
        out.append("**Mismatches** (kloss is not computing the same thing as native here):")
        out.append("")
        for m in merged["mismatches"]:
            out.append(
                f"- {m['backend']} {m['mode']} {m['loss']} {m['size']}: kloss "
                f"{m['kloss_value']:.7g} vs native {m['native_value']:.7g}, gradient "
                f"error {m['grad_rel_err']:.2e}"
            )
    else:
        n = len(ok_records(records))
        out.append(f"All {n} cases: kloss's value and gradient equal native's.")
    if errors:
        out += ["", "**Errors**:", ""]
        out += [
            f"- {r['backend']} {r['mode']} {r['loss']} {r['size']}: {r['error']}" for r in errors
        ]
    out += [
        "",
        "## Results",
        "",
        "| backend | mode | loss | size | kloss µs | native µs | ratio |",
        "|---|---|---|---|---:|---:|---:|",
    ]
    for r in records:
        shape = "x".join(map(str, r["shape"]))
        lead = f"| {r['backend']} | {r['mode']} | {r['loss']} | {r['size']} ({shape}) |"
        if "error" in r:
            out.append(f"{lead} error | error | error |")
        else:
            out.append(
                f"{lead} {_fmt_us(r['kloss_us'])} | {_fmt_us(r['native_us'])} | {r['ratio']:.2f} |"
            )
    return "\n".join(out) + "\n"


def main(argv=None):
    args, passthrough = parse_args(argv)
    if args.render:
        with open(args.render) as f:
            merged = json.load(f)
        with open(args.md, "w") as f:
            f.write(markdown(merged, merged.get("failed_backends", []), merged["command"]))
        print(f"wrote {args.md} from {args.render}")
        return 0
    os.makedirs(args.out_dir, exist_ok=True)
    results, failed, rcs = [], [], {}
    for backend in args.backends:
        data, rc = run_backend(backend, args.out_dir, passthrough)
        rcs[backend] = rc
        if data is None:
            failed.append(backend)
        else:
            results.append(data)

    merged = merge(results)
    command = shlex.join(["python", "benchmarks/run_all.py", *(argv or sys.argv[1:])])
    merged["command"] = command
    merged["failed_backends"] = failed
    merged_path = os.path.join(args.out_dir, "results.json")
    with open(merged_path, "w") as f:
        json.dump(merged, f, indent=1)

    print("\n== all backends ==")
    print(text_table(merged["records"]))
    print()
    for b in [b for b in BACKENDS if b in args.backends and b not in failed]:
        print(f"{b}: {backend_summary(b, merged['records'], merged['eager_overhead'])}")
    for m in merged["mismatches"]:
        print(
            f"!!! VALUE MISMATCH {m['backend']} {m['mode']} {m['loss']} {m['size']}: "
            f"kloss {m['kloss_value']!r} vs native {m['native_value']!r}, "
            f"grad rel err {m['grad_rel_err']:.2e}",
            file=sys.stderr,
        )
    for b in failed:
        print(f"!!! {b}: no results (exit code {rcs[b]})", file=sys.stderr)
    print(f"\nwrote {merged_path}")
    if not args.no_md:
        with open(args.md, "w") as f:
            f.write(markdown(merged, failed, command))
        print(f"wrote {args.md}")
    bad = failed or merged["mismatches"] or any(rc != 0 for rc in rcs.values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
