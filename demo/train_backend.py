"""Worker of the demo: trains every case of `cases.CASES` on ONE Keras backend.

    .venv/bin/python demo/train_backend.py BACKEND OUT.json [--epochs N] [--cases NAME ...]

BACKEND (tensorflow, jax or torch) sets KERAS_BACKEND before keras is imported: Keras fixes
its backend at first import, so `run_demo.py` starts one such process per backend. All
initial weights come from one NumPy generator (each backend's own RNG differs) and training
is full-batch Adam without shuffling, so the initial losses agree across backends to float32
round-off and a run is reproducible.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def glorot_weights(shapes, rng):
    """Glorot-uniform kernels and zero biases, drawn with NumPy."""
    out = []
    for shape in shapes:
        if len(shape) >= 2:
            limit = np.sqrt(6.0 / (shape[0] + shape[-1]))
            out.append(rng.uniform(-limit, limit, size=shape).astype("float32"))
        else:
            out.append(np.zeros(shape, dtype="float32"))
    return out


def run_case(keras, case, data, args):
    x_train, y_train, x_test, y_test = data
    forward, inverse = case["target"](y_train)
    # Class indices stay integers (int32): the sparse losses reject float labels.
    t_train = np.asarray(forward(y_train), dtype=case.get("target_dtype", "float32"))
    if t_train.ndim == 1:
        t_train = t_train[:, None]
    loss = case["loss"](t_train) if case.get("loss_takes_targets") else case["loss"]()

    start = time.perf_counter()
    keras.utils.set_random_seed(args.seed)
    model = keras.Sequential(
        [
            keras.Input((x_train.shape[1],)),
            keras.layers.Dense(args.hidden, activation="relu"),
            keras.layers.Dense(case.get("units", 1), activation=case.get("activation")),
        ]
    )
    weights = glorot_weights(
        [w.shape for w in model.get_weights()], np.random.default_rng(args.seed)
    )
    if case.get("output_bias") is not None:
        weights[-1][:] = case["output_bias"](t_train)
    model.set_weights(weights)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=args.lr), loss=loss)

    n = len(x_train)
    initial = model.evaluate(x_train, t_train, batch_size=n, verbose=0)
    # Full-batch gradient descent, one step per epoch. Keras builds a new data iterator every
    # epoch (~30 ms on TensorFlow, more than the step itself), so the training set is stacked
    # `epochs` times and read by ONE iterator, one copy (= one full batch) per epoch: the same
    # steps as `fit(x, t, batch_size=n, epochs=epochs)`, and `history` holds each step's loss.
    history = model.fit(
        np.tile(x_train, (args.epochs, 1)),
        np.tile(t_train, (args.epochs, 1)),
        batch_size=n,
        epochs=args.epochs,
        steps_per_epoch=1,
        shuffle=False,
        verbose=0,
    ).history["loss"]
    final = model.evaluate(x_train, t_train, batch_size=n, verbose=0)
    out = np.asarray(model.predict(x_test, batch_size=len(x_test), verbose=0), dtype="float64")
    elapsed = time.perf_counter() - start

    prediction = inverse(out[:, 0] if out.shape[-1] == 1 else out)
    return {
        "name": case["name"],
        "dataset": case.get("dataset", "diabetes"),
        "initial_loss": float(initial),
        "final_loss": float(final),
        "history": [float(v) for v in history],
        "metrics": case["metrics"](y_test, prediction),
        "time_s": elapsed,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backend", choices=["tensorflow", "jax", "torch"])
    parser.add_argument("out", help="path of the JSON results")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads of the backend")
    parser.add_argument("--cases", nargs="*", help="names of the cases to run (default: all)")
    args = parser.parse_args(argv)

    # Before the first keras import: the backend is fixed then.
    os.environ["KERAS_BACKEND"] = args.backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # A tiny model: one thread per backend is fastest, and fair on a shared machine (torch
    # with 2 threads was 15x slower here under load).
    threads = str(args.threads)
    os.environ["OMP_NUM_THREADS"] = threads
    os.environ["TF_NUM_INTRAOP_THREADS"] = threads
    os.environ["TF_NUM_INTEROP_THREADS"] = threads
    if args.threads == 1:
        os.environ["XLA_FLAGS"] = (
            os.environ.get("XLA_FLAGS", "")
            + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        ).strip()
    for path in (ROOT, HERE):
        if path not in sys.path:
            sys.path.insert(0, path)
    start = time.perf_counter()
    import cases as case_module
    import keras

    import_s = time.perf_counter() - start
    assert keras.backend.backend() == args.backend, keras.backend.backend()

    known = [c["name"] for c in case_module.CASES]
    unknown = sorted(set(args.cases or ()) - set(known))
    if unknown:
        parser.error(f"unknown case(s) {unknown}; known: {known}")
    selected = [c for c in case_module.CASES if not args.cases or c["name"] in args.cases]
    datasets = {}
    results = []
    for case in selected:
        name = case.get("dataset", "diabetes")
        if name not in datasets:
            datasets[name] = case_module.DATASETS[name](np.random.default_rng(args.seed))
        results.append(run_case(keras, case, datasets[name], args))

    backend_module = __import__(args.backend)
    payload = {
        "backend": args.backend,
        "backend_version": backend_module.__version__,
        "keras_version": keras.__version__,
        "config": {k: getattr(args, k) for k in ("epochs", "lr", "hidden", "seed", "threads")},
        "import_s": import_s,
        "datasets": {
            name: (case_module.DATASETS[name].__doc__ or name).strip().splitlines()[0]
            for name in datasets
        },
        "cases": results,
    }
    with open(args.out, "w") as f:
        json.dump(payload, f)


if __name__ == "__main__":
    main()
