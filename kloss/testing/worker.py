"""One backend's half of `kloss check`: computes the registry's cases in this process.

    KERAS_BACKEND=jax python -m kloss.testing.worker OUT_DIR [--losses Huber,Dice]

Writes OUT_DIR/<backend>.npz (the case values, as `kloss.testing.cases`) and
OUT_DIR/<backend>.json (per loss: case count, errors, non-finite values) and prints one
`@progress DONE TOTAL NAME` line per loss for the parent's progress bar.

`KLOSS_CHECK_REGISTRY=module:attribute` replaces the registry (kloss's own tests use it to
show that `kloss check` catches disagreeing, non-finite and failing losses).
"""

import argparse
import json
import os
import pathlib
import sys
import time
import traceback

import numpy as np


def _backend_version(name):
    if name == "numpy":
        return np.__version__
    module = __import__(name)
    return getattr(module, "__version__", "unknown")


def load_registry():
    """The registry named by `KLOSS_CHECK_REGISTRY` (default: kloss's own)."""
    import importlib

    spec = os.environ.get("KLOSS_CHECK_REGISTRY", "kloss.testing.registry:REGISTRY")
    module, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module), attribute)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m kloss.testing.worker")
    parser.add_argument("out_dir")
    parser.add_argument("--losses", default="", help="comma-separated class names (default all)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    import keras

    from kloss.testing.cases import case_values

    registry = load_registry()

    backend = keras.backend.backend()
    names = [n for n in args.losses.split(",") if n]
    entries = [e for e in registry if not names or e.name in names]
    autodiff = backend != "numpy"
    values, report = {}, {}
    print(f"@progress 0 {len(entries)} -", flush=True)
    for done, entry in enumerate(entries, 1):
        result = {"cases": 0, "errors": [], "nonfinite": []}
        for i, option in enumerate(entry.options):
            cid = f"{entry.name}-{i}"
            try:
                out = case_values(entry, option, cid, autodiff)
            except Exception as e:  # reported per loss, the other losses still run
                tb = traceback.format_exception_only(type(e), e)[-1].strip()
                result["errors"].append(f"{cid} {option}: {tb}")
                continue
            for key, value in out.items():
                if not np.all(np.isfinite(value)):
                    result["nonfinite"].append(f"{key}: {np.ravel(value)[:4]}")
            values.update(out)
            result["cases"] += len(out)
        report[entry.name] = result
        print(f"@progress {done} {len(entries)} {entry.name}", flush=True)

    out_dir = pathlib.Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez(out_dir / f"{backend}.npz", **values)
    summary = {
        "backend": backend,
        "version": _backend_version(backend),
        "keras_version": keras.__version__,
        "seconds": time.perf_counter() - start,
        "losses": report,
    }
    (out_dir / f"{backend}.json").write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
