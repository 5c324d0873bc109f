"""`kloss check`: verify an installation on every installed Keras backend.

    kloss check [--backends tensorflow,jax,torch,numpy] [--losses Huber,Dice] [--json [PATH]]
    python -m kloss check ...

For every loss in kloss's registry (`kloss.testing.registry`) and every backend (one
subprocess each, since Keras fixes its backend at first import), it computes the seeded
cases: per-sample values, weighted reductions, and (where the backend has autodiff) the
value and gradient, on random and edge inputs. It then compares the backends pairwise
(float32: rtol 1e-5, atol 1e-6), flags any NaN or Inf, and prints a pass/fail table per loss
and backend and a summary line. Exit status: 0 when everything passes, 1 on any failure,
2 on a usage error.
"""

import argparse
import difflib
import importlib.util
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

BACKENDS = ("tensorflow", "jax", "torch", "numpy")


def installed_backends():
    """The Keras backends importable here; numpy (forward only) always is."""
    return [b for b in BACKENDS if b == "numpy" or importlib.util.find_spec(b) is not None]


def _split(text):
    return [x.strip() for x in text.split(",") if x.strip()]


class _Progress:
    """One status line on stderr: a bar over all losses of all backends, and each backend's
    count. Redrawn in place on a terminal; on a pipe, one line per backend at each quarter."""

    def __init__(self, backends, stream=sys.stderr):
        self.stream = stream
        self.tty = stream.isatty()
        self.done = dict.fromkeys(backends, 0)
        self.total = dict.fromkeys(backends, 0)
        self.last_quarter = dict.fromkeys(backends, -1)
        self.lock = threading.Lock()
        self.start = time.perf_counter()

    def update(self, backend, done, total):
        with self.lock:
            self.done[backend], self.total[backend] = done, total
            if self.tty:
                self._draw()
            else:
                quarter = 4 * done // max(total, 1)
                if quarter != self.last_quarter[backend]:
                    self.last_quarter[backend] = quarter
                    print(f"kloss check: {backend} {done}/{total} losses", file=self.stream)

    def _draw(self):
        done, total = sum(self.done.values()), sum(self.total.values())
        frac = done / total if total else 0.0
        bar = "#" * int(30 * frac) + "-" * (30 - int(30 * frac))
        parts = "  ".join(f"{b} {self.done[b]}/{self.total[b] or '?'}" for b in self.done)
        elapsed = time.perf_counter() - self.start
        print(f"\r[{bar}] {100 * frac:3.0f}% {elapsed:5.0f}s  {parts}", end="", file=self.stream)
        self.stream.flush()

    def close(self):
        if self.tty:
            print(file=self.stream)


def _run_backend(backend, out_dir, losses, progress):
    """Runs the worker for `backend`; returns (returncode, stderr tail)."""
    env = dict(os.environ, KERAS_BACKEND=backend)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    cmd = [sys.executable, "-m", "kloss.testing.worker", str(out_dir)]
    if losses:
        cmd += ["--losses", ",".join(losses)]
    err_path = pathlib.Path(out_dir) / f"{backend}.stderr"
    with open(err_path, "w") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        for line in proc.stdout:
            if line.startswith("@progress "):
                _, done, total, _name = line.split(maxsplit=3)
                progress.update(backend, int(done), int(total))
        code = proc.wait()
    tail = err_path.read_text().strip().splitlines()[-15:]
    return code, "\n".join(tail)


def _loss_of(key):
    return key.split("/", 1)[0].rsplit("-", 1)[0]


def run_check(backends, losses, jobs):
    """Runs the workers and compares them; returns the report (see `--json`)."""
    import keras

    import kloss
    from kloss.testing.compare import ATOL, RTOL, disagreements
    from kloss.testing.worker import load_registry

    names = [e.name for e in load_registry() if not losses or e.name in losses]
    progress = _Progress(backends)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kloss-check-") as tmp:
        codes = {}
        pending = list(backends)
        running = []
        lock = threading.Lock()

        def work(b):
            code, tail = _run_backend(b, tmp, losses, progress)
            with lock:
                codes[b] = (code, tail)

        while pending or running:
            while pending and len(running) < jobs:
                t = threading.Thread(target=work, args=(pending.pop(0),))
                t.start()
                running.append(t)
            running[0].join()
            running = [t for t in running if t.is_alive()]
        progress.close()

        report_backends, files, per_backend = {}, {}, {}
        for b in backends:
            code, tail = codes[b]
            json_path = pathlib.Path(tmp, f"{b}.json")
            if code != 0 or not json_path.exists():
                report_backends[b] = {
                    "version": None,
                    "status": "error",
                    "error": f"worker exited with status {code}:\n{tail}",
                    "seconds": None,
                    "cases": 0,
                }
                continue
            info = json.loads(json_path.read_text())
            files[b] = dict(np.load(pathlib.Path(tmp, f"{b}.npz")))
            per_backend[b] = info["losses"]
            report_backends[b] = {
                "version": info["version"],
                "status": "ok",
                "error": None,
                "seconds": round(info["seconds"], 2),
                "cases": len(files[b]),
            }
        compared, found = disagreements(files)

    table = {}
    for name in names:
        row = {}
        for b in backends:
            if b not in per_backend:
                row[b] = {"status": "error", "cases": 0, "problems": ["backend failed to run"]}
                continue
            r = per_backend[b].get(name, {"cases": 0, "errors": ["not computed"], "nonfinite": []})
            problems = [f"error: {e}" for e in r["errors"]]
            problems += [f"non-finite: {e}" for e in r["nonfinite"]]
            status = "error" if r["errors"] else ("fail" if r["nonfinite"] else "pass")
            row[b] = {"status": status, "cases": r["cases"], "problems": problems}
        table[name] = row
    for a, b, key, message in found:
        name = _loss_of(key)
        if "error" in (table[name][a]["status"], table[name][b]["status"]):
            continue  # cases missing after an error: the error is the report
        for this, other in ((a, b), (b, a)):
            cell = table[name][this]
            cell["problems"].append(f"disagrees with {other}: {key}: {message}")
            if cell["status"] == "pass":
                cell["status"] = "fail"

    counts = {"pass": 0, "fail": 0, "error": 0}
    for row in table.values():
        for cell in row.values():
            counts[cell["status"]] += 1
    ok = counts["fail"] == 0 and counts["error"] == 0
    ok = ok and all(v["status"] == "ok" for v in report_backends.values())
    return {
        "ok": ok,
        "kloss_version": kloss.__version__,
        "keras_version": keras.__version__,
        "python": platform.python_version(),
        "rtol": RTOL,
        "atol": ATOL,
        "seconds": round(time.perf_counter() - start, 2),
        "backends": report_backends,
        "losses": table,
        "comparisons": compared,
        "summary": counts,
    }


def format_table(report):
    backends = list(report["backends"])
    width = max([len("loss")] + [len(n) for n in report["losses"]])
    cols = [max(len(b), 5) for b in backends]

    def line(first, cells):
        padded = [c.ljust(w) for c, w in zip(cells, cols, strict=True)]
        return "  ".join([first.ljust(width), *padded]).rstrip()

    lines = [line("loss", backends), line("-" * width, ["-" * c for c in cols])]
    for name, row in report["losses"].items():
        status = [row[b]["status"] for b in backends]
        lines.append(line(name, [s if s == "pass" else s.upper() for s in status]))
    problems = []
    for b, info in report["backends"].items():
        if info["status"] != "ok":
            problems.append(f"  {b}: {info['error']}")
    for name, row in report["losses"].items():
        for b in backends:
            for p in row[b]["problems"][:5]:
                problems.append(f"  {name} on {b}: {p}")
            if len(row[b]["problems"]) > 5:
                problems.append(f"  {name} on {b}: ... {len(row[b]['problems']) - 5} more")
    if problems:
        lines += ["", "problems:"] + problems
    versions = ", ".join(
        f"{b} {info['version']}" if info["version"] else f"{b} (failed)"
        for b, info in report["backends"].items()
    )
    s = report["summary"]
    compared = (
        f"{report['comparisons']} pairwise comparisons (rtol {report['rtol']}, "
        f"atol {report['atol']})"
        if len(backends) > 1
        else "one backend: no pairwise comparison"
    )
    lines += [
        "",
        f"kloss {report['kloss_version']}, keras {report['keras_version']}; {versions}",
        f"kloss check: {'OK' if report['ok'] else 'FAILED'}: {len(report['losses'])} losses x "
        f"{len(backends)} backends: {s['pass']} pass, {s['fail']} fail, {s['error']} error; "
        f"{compared}; {report['seconds']:.0f} s",
    ]
    return "\n".join(lines)


def _parser():
    parser = argparse.ArgumentParser(
        prog="kloss", description="kloss: losses for Keras 3 that agree on every backend."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser(
        "check",
        help="verify this installation on every installed backend",
        description=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "--backends",
        default=None,
        help=f"comma-separated backends (default: every installed one of {', '.join(BACKENDS)})",
    )
    check.add_argument(
        "--losses", default=None, help="comma-separated loss class names (default: all)"
    )
    check.add_argument(
        "--json",
        nargs="?",
        const="-",
        default=None,
        metavar="PATH",
        help="write the full report as JSON to PATH, or to stdout (instead of the table) "
        "when no PATH is given",
    )
    check.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="backends run at the same time (default: all of them)",
    )
    return parser


def _resolve(kind, given, known):
    """The names in `given` matched case-insensitively against `known`; a usage error with a
    suggestion for an unknown one."""
    lower = {k.lower(): k for k in known}
    out = []
    for g in given:
        if g.lower() not in lower:
            close = difflib.get_close_matches(g.lower(), list(lower), n=1)
            hint = f" Did you mean {lower[close[0]]!r}?" if close else ""
            raise ValueError(f"kloss check: unknown {kind} {g!r}.{hint} Known: {', '.join(known)}")
        out.append(lower[g.lower()])
    return out


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        available = installed_backends()
        if args.backends is None:
            backends = available
        else:
            backends = _resolve("backend", _split(args.backends), BACKENDS)
            missing = [b for b in backends if b not in available]
            if missing:
                raise ValueError(f"kloss check: backend(s) not installed: {', '.join(missing)}")
        losses = None
        if args.losses is not None:
            from kloss.testing.worker import load_registry

            known = [e.name for e in load_registry()]
            losses = _resolve("loss", _split(args.losses), known)
        if args.jobs is not None and args.jobs < 1:
            raise ValueError(f"kloss check: --jobs must be >= 1. Received: {args.jobs}")
    except ValueError as e:
        parser.error(str(e))
    report = run_check(backends, losses, args.jobs or len(backends))
    if args.json == "-":
        print(json.dumps(report, indent=1))
    else:
        print(format_table(report))
        if args.json is not None:
            pathlib.Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            pathlib.Path(args.json).write_text(json.dumps(report, indent=1))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
