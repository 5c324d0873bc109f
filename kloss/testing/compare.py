"""Compares the cross-backend cases saved by each backend's test process, pairwise.

    python -m kloss.testing.compare DIR [--require tensorflow,jax,torch]

Fails (exit 1) listing every disagreement beyond float32 tolerance (rtol 1e-5, atol 1e-6),
every case that one backend has and another lacks, and any required backend with no file.
Keys present only on autodiff backends (values, gradients) are compared among those.
"""

import argparse
import itertools
import pathlib
import sys

import numpy as np

RTOL, ATOL = 1e-5, 1e-6


def disagreements(files):
    """(number compared, [(backend_a, backend_b, key, message)]) over every pair of backends
    in `files` ({backend: {case_key: array}})."""
    found = []
    compared = 0
    for a, b in itertools.combinations(sorted(files), 2):
        ka, kb = set(files[a]), set(files[b])
        grad_keys = {k for k in ka ^ kb if k.endswith(("/value", "/grad"))}
        if "numpy" not in (a, b):
            grad_keys = set()
        for k in sorted((ka ^ kb) - grad_keys):
            found.append((a, b, k, "present in only one"))
        for k in sorted(ka & kb):
            x, y = files[a][k], files[b][k]
            compared += 1
            if x.shape != y.shape:
                found.append((a, b, k, f"shapes {x.shape} != {y.shape}"))
            elif not np.allclose(x, y, rtol=RTOL, atol=ATOL, equal_nan=False):
                with np.errstate(all="ignore"):
                    err = np.abs(x - y)
                    rel = np.max(err / np.maximum(np.abs(y), ATOL))
                found.append(
                    (
                        a,
                        b,
                        k,
                        f"max abs diff {np.max(err):.3g} (rel {rel:.3g}); "
                        f"{a}={np.ravel(x)[:4]} {b}={np.ravel(y)[:4]}",
                    )
                )
    return compared, found


def compare(directory, require=()):
    files = {p.stem: dict(np.load(p)) for p in sorted(pathlib.Path(directory).glob("*.npz"))}
    problems = [f"missing results for backend {b!r}" for b in require if b not in files]
    compared, found = disagreements(files)
    for a, b, k, message in found:
        sep = " " if message == "present in only one" else ": "
        problems.append(f"{a} vs {b}: {k}{sep}{message}")
    return files, compared, problems


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--require", default="")
    args = parser.parse_args(argv)
    require = [b for b in args.require.split(",") if b]
    files, compared, problems = compare(args.directory, require)
    print(
        f"cross-backend: backends {sorted(files)}, {compared} pairwise comparisons "
        f"(rtol {RTOL}, atol {ATOL})"
    )
    for p in problems:
        print("DISAGREE " + p)
    if problems or len(files) < 2:
        print(f"cross-backend: FAILED ({len(problems)} problems)")
        return 1
    print("cross-backend: all backends agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
