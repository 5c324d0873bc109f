"""kloss demo: the same small models trained with each kloss loss on every backend.

Runs `train_backend.py` once per installed Keras backend (tensorflow, jax, torch), each in
its own process (Keras fixes its backend at first import), then prints one table per
dataset (regression on load_diabetes, classification on a long-tailed load_digits), checks
that the initial losses agree across backends, and writes `demo_out/training_curves.png`
and `demo_out/results.json`. Exits non-zero if a backend fails or if an initial loss differs
across backends by more than `--rtol` (relative).

    .venv/bin/python demo/run_demo.py [--backends jax torch] [--epochs 100]
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ALL_BACKENDS = ("tensorflow", "jax", "torch")
STYLES = {"tensorflow": ("-", 3.0), "jax": ("--", 2.0), "torch": (":", 2.0)}


def installed_backends():
    """The backends whose package can be found (without importing it: imports are slow)."""
    return [b for b in ALL_BACKENDS if importlib.util.find_spec(b) is not None]


def run_worker(backend, out_path, worker_args):
    env = dict(os.environ, KERAS_BACKEND=backend)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    cmd = [sys.executable, os.path.join(HERE, "train_backend.py"), backend, out_path]
    start = time.perf_counter()
    proc = subprocess.run(cmd + worker_args, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        print(f"[{backend}] FAILED (exit {proc.returncode}) after {wall:.1f} s:\n{tail}")
        return None
    with open(out_path) as f:
        result = json.load(f)
    result["wall_s"] = wall
    print(
        f"[{backend}] {result['backend_version']} (keras {result['keras_version']}): "
        f"{len(result['cases'])} losses in {wall:.1f} s (import {result['import_s']:.1f} s)"
    )
    return result


def rows_by_loss(results):
    """{case name: {backend: case result}}, in the workers' case order."""
    table = {}
    for res in results:
        for case in res["cases"]:
            table.setdefault(case["name"], {})[res["backend"]] = case
    return table


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


# Metric keys with their own column title or format; any other key: the key, 3 decimals.
METRIC_COLUMNS = {"test_mae": ("test MAE", ".2f")}


def print_table(results):
    """One table per dataset, with the metric columns of that dataset's cases."""
    by_loss = rows_by_loss(results)
    groups = {}
    for name, per_backend in by_loss.items():
        dataset = next(iter(per_backend.values())).get("dataset", "")
        groups.setdefault(dataset, []).append(name)
    descriptions = {}
    for res in results:
        descriptions.update(res.get("datasets", {}))
    for i, (dataset, names) in enumerate(groups.items()):
        if i:
            print()
        if dataset:
            print(f"{dataset}: {descriptions.get(dataset, '')}".rstrip(": "))
        _print_group({name: by_loss[name] for name in names})


def _print_group(by_loss):
    keys = []
    for per_backend in by_loss.values():
        for case in per_backend.values():
            keys += [k for k in case["metrics"] if k not in keys]
    columns = [METRIC_COLUMNS.get(k, (k, ".3f")) for k in keys]
    header = ["backend", "loss", "initial loss", "final loss", *(c[0] for c in columns)]
    header.append("time (s)")
    lines = []
    for name, per_backend in by_loss.items():
        for backend, case in per_backend.items():
            m = case["metrics"]
            lines.append(
                [
                    backend,
                    name,
                    fmt(case["initial_loss"], ".6f"),
                    fmt(case["final_loss"], ".6f"),
                    *(fmt(m.get(k), c[1]) for k, c in zip(keys, columns, strict=True)),
                    fmt(case["time_s"], ".2f"),
                ]
            )
    widths = [max(len(str(r[i])) for r in [header, *lines]) for i in range(len(header))]

    def render(row):
        cells = [
            str(c).ljust(w) if i < 2 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "| " + " | ".join(cells) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    print(render(header))
    print(rule)
    for row in lines:
        print(render(row))


def check_initial(results, rtol):
    """Max relative spread of each loss's initial value across backends; True if all fit."""
    spreads = {}
    for name, per_backend in rows_by_loss(results).items():
        values = [c["initial_loss"] for c in per_backend.values()]
        scale = max(abs(v) for v in values)
        spreads[name] = (max(values) - min(values)) / scale if scale > 0 else 0.0
    ok = all(s <= rtol for s in spreads.values())
    detail = ", ".join(f"{name} {s:.1e}" for name, s in spreads.items())
    if len(results) < 2:
        print(f"initial-loss check: only {results[0]['backend']} ran, nothing to compare")
    else:
        names = ", ".join(r["backend"] for r in results)
        print(
            f"initial-loss check ({names}; max relative difference per loss, rtol {rtol:g}): "
            f"{detail} -> {'OK' if ok else 'FAIL'}"
        )
    return ok, spreads


def plot_curves(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_loss = rows_by_loss(results)
    ncols = min(3, len(by_loss))
    nrows = -(-len(by_loss) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False)
    for ax, (name, per_backend) in zip(axes.flat, by_loss.items(), strict=False):
        for backend, case in per_backend.items():
            curve = case["history"] + [case["final_loss"]]
            style, width = STYLES.get(backend, ("-", 1.5))
            ax.plot(range(len(curve)), curve, style, linewidth=width, label=backend)
        dataset = next(iter(per_backend.values())).get("dataset")
        ax.set_title(f"{name}\n({dataset})" if dataset else name, fontsize=10)
        ax.set_xlabel("epoch (full-batch step)")
        values = [v for case in per_backend.values() for v in case["history"]]
        if min(values) > 0 and max(values) > 100 * min(values):
            # Classification losses fall by orders of magnitude: a log axis shows all of it.
            ax.set_yscale("log")
            ax.set_ylabel("training loss (log scale)")
        else:
            ax.set_ylabel("training loss")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(by_loss) :]:
        ax.set_visible(False)
    fig.suptitle("kloss: training loss per backend (lines should coincide)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _show(path):
    """`path` relative to the working directory when inside it, else absolute."""
    rel = os.path.relpath(path)
    return os.path.abspath(path) if rel.startswith("..") else rel


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="*", choices=ALL_BACKENDS, help="default: installed")
    parser.add_argument("--out", default=os.path.join(ROOT, "demo_out"), help="output folder")
    parser.add_argument("--rtol", type=float, default=1e-5)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--seed", type=int)
    args = parser.parse_args(argv)

    worker_args = []
    for key in ("epochs", "lr", "seed"):
        if getattr(args, key) is not None:
            worker_args += [f"--{key}", str(getattr(args, key))]
    backends = args.backends or installed_backends()
    if not backends:
        print("no Keras backend installed (tensorflow, jax or torch)")
        return 2

    start = time.perf_counter()
    results = []
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            res = run_worker(backend, os.path.join(tmp, f"{backend}.json"), worker_args)
            (results.append(res) if res else failed.append(backend))
    if not results:
        return 1

    print()
    print_table(results)
    print()
    ok, spreads = check_initial(results, args.rtol)

    os.makedirs(args.out, exist_ok=True)
    png = os.path.join(args.out, "training_curves.png")
    plot_curves(results, png)
    summary = {
        "backends": results,
        "failed_backends": failed,
        "initial_loss_rel_spread": spreads,
        "rtol": args.rtol,
        "initial_losses_agree": ok,
        "wall_s": time.perf_counter() - start,
    }
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"wrote {_show(png)} and {_show(os.path.join(args.out, 'results.json'))}")
    print(f"total wall time {summary['wall_s']:.1f} s")
    if failed:
        print(f"FAILED backends: {', '.join(failed)}")
    return 0 if ok and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
