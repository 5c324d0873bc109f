"""Times kloss losses (regression and classification) against each backend's native losses.

Run once per backend (Keras fixes its backend at first import):

    KERAS_BACKEND=jax python benchmarks/bench.py --json out.json [--rounds N]
        [--sizes small,medium,large] [--losses mse,huber,scce,...|regression|classification]
        [--modes eager,compiled] [--threads 1] [--malloc pinned|default]

For every loss, size and mode it times value and gradient (with respect to `y_pred`) of the
scalar loss, kloss's class called as `loss(y_true, y_pred)` with the default reduction against
the native equivalent, as PERFORMANCE.md asks: warm up (compilation included), calibrate a
repeat count so that each timed sample lasts at least `--min-sample-ms`, then for each round
time one kloss sample and one native sample back to back, alternating which goes first, with
every call's results synchronised. Reported: medians of the per-call times and the median of
the per-round ratios kloss / native. Before timing, each case checks that kloss's value (and
gradient) equals the native one, so the comparison is like for like.
"""

import argparse
import datetime
import gc
import json
import math
import os
import platform
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SIZES = {"small": (32, 10), "medium": (256, 1000), "large": (4096, 1024)}
REGRESSION = (
    "MeanSquaredError",
    "MeanAbsoluteError",
    "Huber",
    "LogCosh",
    "Pinball",
    "Poisson",
    "CosineProximity",
)
CLASSIFICATION = (
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy",
    "SparseCategoricalCrossentropy",
    "SparseCategoricalFocalCrossentropy",
    "KLDivergence",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
)
# New losses go at the end: a loss's position seeds its inputs.
LOSSES = REGRESSION + CLASSIFICATION
GROUPS = {"regression": REGRESSION, "classification": CLASSIFICATION}
ALIASES = {
    "mse": "MeanSquaredError",
    "mae": "MeanAbsoluteError",
    "huber": "Huber",
    "logcosh": "LogCosh",
    "log_cosh": "LogCosh",
    "pinball": "Pinball",
    "poisson": "Poisson",
    "cosine": "CosineProximity",
    "cosine_proximity": "CosineProximity",
    "bce": "BinaryCrossentropy",
    "binary_focal": "BinaryFocalCrossentropy",
    "cce": "CategoricalCrossentropy",
    "categorical_focal": "CategoricalFocalCrossentropy",
    "scce": "SparseCategoricalCrossentropy",
    "sparse_ce": "SparseCategoricalCrossentropy",
    "sparse_focal": "SparseCategoricalFocalCrossentropy",
    "kld": "KLDivergence",
    "kl": "KLDivergence",
    "hinge": "Hinge",
    "squared_hinge": "SquaredHinge",
    "categorical_hinge": "CategoricalHinge",
}
MODES = ("eager", "compiled")
BACKENDS = ("tensorflow", "jax", "torch")

HUBER_DELTA = 1.0
QUANTILE = 0.9
POISSON_EPS = 1e-7  # keras.config.epsilon(), what kloss.Poisson() uses
LOG2 = math.log(2.0)
FOCAL_ALPHA = 0.25  # BinaryFocalCrossentropy; the categorical focal losses take alpha=None
FOCAL_GAMMA = 2.0

VALUE_RTOL = 1e-4
VALUE_ATOL = 1e-6
GRAD_TOL = 1e-3  # max |g_kloss - g_native| relative to max |g_native|
SEED = 20240607


# --------------------------------------------------------------------------- arguments


def _csv(choices, aliases=None, groups=None):
    aliases = aliases or {}
    groups = groups or {}
    lowered = {c.lower(): c for c in choices}

    def parse(text):
        out = []
        for item in filter(None, (s.strip() for s in text.split(","))):
            key = item.lower()
            name = aliases.get(key) or lowered.get(key)
            names = groups.get(key) or ([name] if name else None)
            if names is None:
                raise argparse.ArgumentTypeError(
                    f"unknown value {item!r}; choose from {', '.join(choices)}"
                    + (f" (or {', '.join(sorted(aliases))})" if aliases else "")
                    + (f" (or the groups {', '.join(groups)})" if groups else "")
                )
            out.extend(n for n in names if n not in out)
        if not out:
            raise argparse.ArgumentTypeError("empty list")
        return out

    return parse


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", required=True, help="where to write the results (JSON)")
    p.add_argument("--rounds", type=int, default=30, help="timed rounds per case (default 30)")
    p.add_argument(
        "--sizes",
        type=_csv(tuple(SIZES)),
        default=list(SIZES),
        help="comma-separated: small (32x10), medium (256x1000), large (4096x1024)",
    )
    p.add_argument(
        "--losses",
        type=_csv(LOSSES, ALIASES, GROUPS),
        default=list(LOSSES),
        help="comma-separated kloss class names, aliases (mse, mae, huber, logcosh, pinball, "
        "poisson, cosine, bce, binary_focal, cce, categorical_focal, scce, sparse_focal, kld, "
        "hinge, squared_hinge, categorical_hinge) or groups (regression, classification); "
        "default all",
    )
    p.add_argument(
        "--modes",
        type=_csv(MODES),
        default=list(MODES),
        help="eager,compiled (torch runs eager only; default both)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="intra-op threads for every library (default 1; 0 keeps the libraries' defaults)",
    )
    p.add_argument(
        "--min-sample-ms",
        type=float,
        default=1.0,
        help="each timed sample repeats the call until it lasts at least this long (default 1)",
    )
    p.add_argument("--warmup", type=int, default=3, help="untimed calls per side (default 3)")
    p.add_argument(
        "--malloc",
        choices=("pinned", "default"),
        default="pinned",
        help="pinned (default): restart under GLIBC_TUNABLES that keep glibc's malloc from "
        "returning freed memory to the kernel, so large buffers are reused instead of "
        "faulted in again on every call; default: leave glibc's settings alone",
    )
    args = p.parse_args(argv)
    if args.rounds < 1:
        p.error("--rounds must be >= 1")
    if args.warmup < 1:
        p.error("--warmup must be >= 1 (the first call compiles and is checked)")
    return args


# --------------------------------------------------------------------------- malloc

# With glibc's defaults, a buffer of 16 MiB and more (the large size) can come from a fresh
# mmap, or from heap memory that free() gave back to the kernel, and every call that gets
# fresh pages pays a minor page fault per 4 KiB page (~4096 per 16 MiB, 4-8 ms per call on
# this VM: more than many of the losses themselves). Whether a call gets fresh pages depended
# on the allocation history of the process and on mmap's 32 MiB ceiling (XLA:CPU allocates
# one temp buffer per program run), not on the loss: the same compiled native loss measured
# 2 ms or 8 ms. These settings keep all memory in one heap that is never given back.
MALLOC_TUNABLES = (
    "glibc.malloc.mmap_max=0",  # no mmap per allocation
    "glibc.malloc.trim_threshold=4294967296",  # never trim the heap
    "glibc.malloc.arena_max=1",  # one heap for every thread (XLA allocates from several)
)


def configure_malloc(mode, argv, script=None):
    """Re-executes `script` (default: this file) with `argv` under `MALLOC_TUNABLES` (glibc
    reads them at start-up only)."""
    if mode == "default":
        return {"mode": "default", "GLIBC_TUNABLES": os.environ.get("GLIBC_TUNABLES", "")}
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return {"mode": "pinned requested; not glibc, unchanged"}
    current = os.environ.get("GLIBC_TUNABLES", "")
    missing = [t for t in MALLOC_TUNABLES if t not in current.split(":")]
    if missing:
        os.environ["GLIBC_TUNABLES"] = ":".join(filter(None, [current, *missing]))
        sys.stdout.flush()
        script = os.path.abspath(script or __file__)
        os.execv(sys.executable, [sys.executable, script, *argv])
    return {"mode": "pinned", "GLIBC_TUNABLES": current}


# --------------------------------------------------------------------------- threads


def configure_thread_env(threads):
    """Sets thread-count environment variables; must run before any backend is imported."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TF's start-up chatter
    if threads <= 0:
        return {"requested": "library defaults"}
    n = str(threads)
    env = {
        "OMP_NUM_THREADS": n,
        "MKL_NUM_THREADS": n,
        "OPENBLAS_NUM_THREADS": n,
        "TF_NUM_INTRAOP_THREADS": n,
        "TF_NUM_INTEROP_THREADS": n,
    }
    if threads == 1:
        # XLA:CPU (JAX and TF's jit_compile) has no thread-count flag beyond this switch.
        flags = os.environ.get("XLA_FLAGS", "")
        extra = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        env["XLA_FLAGS"] = f"{flags} {extra}".strip()
    os.environ.update(env)
    return {"requested": threads, "env": env}


# --------------------------------------------------------------------------- machine info


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "n/a"


def affinity():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return None


# --------------------------------------------------------------------------- inputs


INPUTS = {
    "regression": "y_pred = y_true + unit noise (Poisson: rates in [0.5, 3] and counts drawn "
    "from them)",
    "BinaryCrossentropy": "targets in {0, 1} per entry (multi-label), logits",
    "BinaryFocalCrossentropy": "targets in {0, 1} per entry (multi-label), logits",
    "CategoricalCrossentropy": "one-hot targets, logits",
    "CategoricalFocalCrossentropy": "one-hot targets, logits",
    "SparseCategoricalCrossentropy": "int32 labels (B,), logits",
    "SparseCategoricalFocalCrossentropy": "int32 labels (B,), logits",
    "KLDivergence": "softmax targets (every entry > 0), logits",
    "Hinge": "labels in {-1, 1} per entry, scores",
    "SquaredHinge": "labels in {-1, 1} per entry, scores",
    "CategoricalHinge": "one-hot labels, scores",
}


def make_inputs(loss, size):
    """Seeded `(y_true, y_pred)` as NumPy arrays (float32, int32 for integer labels).

    Regression: predictions are targets plus unit noise (both Huber branches are hit;
    cosines are about 0.7, far from 0, so a relative check of the value means something).
    Poisson gets positive rates and count targets drawn from them. Classification: logits or
    scores of scale 2, shifted by 2 toward the true class, so the losses are neither
    saturated nor uniform; see `INPUTS`.
    """
    import numpy as np

    rng = np.random.default_rng([SEED, LOSSES.index(loss), list(SIZES).index(size)])
    shape = SIZES[size]
    if loss in REGRESSION:
        if loss == "Poisson":
            y_pred = rng.uniform(0.5, 3.0, size=shape)
            y_true = rng.poisson(y_pred)
        else:
            y_true = rng.standard_normal(shape)
            y_pred = y_true + rng.standard_normal(shape)
        return y_true.astype(np.float32), y_pred.astype(np.float32)
    noise = 2.0 * rng.standard_normal(shape)
    if loss in ("BinaryCrossentropy", "BinaryFocalCrossentropy", "Hinge", "SquaredHinge"):
        bits = rng.integers(0, 2, size=shape)
        signs = 2.0 * bits - 1.0
        y_true = signs if "Hinge" in loss else bits
        y_pred = noise + 2.0 * signs
    elif loss == "KLDivergence":
        z = rng.standard_normal(shape)
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        y_true = e / e.sum(axis=-1, keepdims=True)
        y_pred = noise + 2.0 * z
    else:
        labels = rng.integers(0, shape[-1], size=shape[:-1])
        one_hot = np.eye(shape[-1])[labels]
        y_pred = noise + 2.0 * one_hot
        if loss.startswith("Sparse"):
            return labels.astype(np.int32), y_pred.astype(np.float32)
        y_true = one_hot
    return y_true.astype(np.float32), y_pred.astype(np.float32)


def kloss_instance(kloss, loss):
    hyper = {
        "Huber": {"delta": HUBER_DELTA},
        "Pinball": {"quantile": QUANTILE},
        "Poisson": {"log_input": False},
        "CosineProximity": {"axis": -1},
        "BinaryCrossentropy": {"from_logits": True},
        "BinaryFocalCrossentropy": {
            "from_logits": True,
            "alpha": FOCAL_ALPHA,
            "gamma": FOCAL_GAMMA,
        },
        "CategoricalCrossentropy": {"from_logits": True},
        "CategoricalFocalCrossentropy": {"from_logits": True, "alpha": None, "gamma": FOCAL_GAMMA},
        "SparseCategoricalCrossentropy": {"from_logits": True},
        "SparseCategoricalFocalCrossentropy": {
            "from_logits": True,
            "alpha": None,
            "gamma": FOCAL_GAMMA,
        },
        "KLDivergence": {"from_logits": True},
    }.get(loss, {})
    return getattr(kloss, loss)(**hyper)


def class_indices(y_true):
    """Integer labels of one-hot `y_true` (for natives that take labels; made before timing)."""
    return y_true.argmax(axis=-1).astype("int32")


# --------------------------------------------------------------------------- backends
#
# Each backend returns a dict with:
#   natives: {loss: (name, fn(y_true, y_pred) -> scalar[, prepare])}, where the optional
#       prepare(y_true_np) -> np.ndarray makes the native side's own y_true before any timing
#       (e.g. int64 labels for torch, class indices from one-hot labels for optax)
#   modes: the modes it supports
#   case(fn, mode, y_true_np, y_pred_np) -> step: a no-argument callable that computes value
#       and gradient w.r.t. y_pred, waits until both exist, and returns them
#   to_numpy(result) -> (float value, np.ndarray gradient)
#   versions, threads: for the JSON header


def torch_classification(torch, F):
    a, gamma = FOCAL_ALPHA, FOCAL_GAMMA

    def int64(y_true):
        return y_true.astype("int64")  # F.cross_entropy takes int64 (or uint8) labels only

    def binary_focal(t, x):
        # torchvision.ops.sigmoid_focal_loss(reduction="mean"), in torch ops.
        p = torch.sigmoid(x)
        ce = F.binary_cross_entropy_with_logits(x, t, reduction="none")
        p_t = p * t + (1 - p) * (1 - t)
        loss = ce * (1 - p_t) ** gamma
        return ((a * t + (1 - a) * (1 - t)) * loss).mean()

    def categorical_focal(t, x):
        log_p = F.log_softmax(x, dim=-1)
        return -(t * (1 - log_p.exp()) ** gamma * log_p).sum(-1).mean()

    def sparse_focal(y, x):
        log_p_y = F.log_softmax(x, dim=-1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
        return -((1 - log_p_y.exp()) ** gamma * log_p_y).mean()

    def categorical_hinge(t, s):
        true_score = (t * s).sum(-1)
        wrong = s.masked_fill(t > 0, float("-inf")).amax(-1)
        return torch.relu(1 + wrong - true_score).mean()

    return {
        "BinaryCrossentropy": (
            "F.binary_cross_entropy_with_logits",
            lambda t, p: F.binary_cross_entropy_with_logits(p, t),
        ),
        "BinaryFocalCrossentropy": (
            f"torch: torchvision's sigmoid_focal_loss(alpha={a}, gamma={gamma}).mean()",
            binary_focal,
        ),
        "CategoricalCrossentropy": (
            "F.cross_entropy(logits, probabilities)",
            lambda t, p: F.cross_entropy(p, t),
        ),
        "CategoricalFocalCrossentropy": (
            f"torch: -sum(t (1 - p)^{gamma:g} log_softmax).mean()",
            categorical_focal,
        ),
        "SparseCategoricalCrossentropy": (
            "F.cross_entropy(logits, int64 labels)",
            lambda y, p: F.cross_entropy(p, y),
            int64,
        ),
        "SparseCategoricalFocalCrossentropy": (
            f"torch: -((1 - p_y)^{gamma:g} log_softmax.gather(y)).mean(), int64 labels",
            sparse_focal,
            int64,
        ),
        "KLDivergence": (
            'F.kl_div(F.log_softmax(x), t, reduction="batchmean")',
            lambda t, p: F.kl_div(F.log_softmax(p, dim=-1), t, reduction="batchmean"),
        ),
        "Hinge": ("torch: relu(1 - t s).mean()", lambda t, p: torch.relu(1 - t * p).mean()),
        "SquaredHinge": (
            "torch: relu(1 - t s).square().mean()",
            lambda t, p: torch.relu(1 - t * p).square().mean(),
        ),
        "CategoricalHinge": (
            "torch: relu(1 + max_{j != y} s_j - s_y).mean()",
            categorical_hinge,
        ),
    }


def jax_classification(jax, jnp, optax):
    gamma = FOCAL_GAMMA

    def categorical_focal(t, x):
        log_p = jax.nn.log_softmax(x, axis=-1)
        return -(t * (1 - jnp.exp(log_p)) ** gamma * log_p).sum(-1).mean()

    def sparse_focal(y, x):
        log_p = jax.nn.log_softmax(x, axis=-1)
        log_p_y = jnp.take_along_axis(log_p, y[:, None], axis=-1)[:, 0]
        return -((1 - jnp.exp(log_p_y)) ** gamma * log_p_y).mean()

    def categorical_hinge(t, s):
        true_score = (t * s).sum(-1)
        wrong = jnp.where(t > 0, -jnp.inf, s).max(-1)
        return jnp.maximum(0.0, 1 + wrong - true_score).mean()

    losses = optax.losses
    return {
        "BinaryCrossentropy": (
            "optax.losses.sigmoid_binary_cross_entropy(...).mean()",
            lambda t, p: losses.sigmoid_binary_cross_entropy(p, t).mean(),
        ),
        "BinaryFocalCrossentropy": (
            f"optax.losses.sigmoid_focal_loss(alpha={FOCAL_ALPHA}, gamma={gamma}).mean()",
            lambda t, p: losses.sigmoid_focal_loss(p, t, alpha=FOCAL_ALPHA, gamma=gamma).mean(),
        ),
        "CategoricalCrossentropy": (
            "optax.losses.softmax_cross_entropy(...).mean()",
            lambda t, p: losses.softmax_cross_entropy(p, t).mean(),
        ),
        "CategoricalFocalCrossentropy": (
            f"jnp: -sum(t (1 - p)^{gamma:g} log_softmax).mean()",
            categorical_focal,
        ),
        "SparseCategoricalCrossentropy": (
            "optax.losses.softmax_cross_entropy_with_integer_labels(...).mean()",
            lambda y, p: losses.softmax_cross_entropy_with_integer_labels(p, y).mean(),
        ),
        "SparseCategoricalFocalCrossentropy": (
            f"jnp: -((1 - p_y)^{gamma:g} take_along_axis(log_softmax, y)).mean()",
            sparse_focal,
        ),
        "KLDivergence": (
            "optax.losses.kl_divergence(jax.nn.log_softmax(x), t).mean()",
            lambda t, p: losses.kl_divergence(jax.nn.log_softmax(p, axis=-1), t).mean(),
        ),
        "Hinge": (
            "optax.losses.hinge_loss(...).mean()",
            lambda t, p: losses.hinge_loss(p, t).mean(),
        ),
        "SquaredHinge": (
            "jnp: square(maximum(0, 1 - t s)).mean()",
            lambda t, p: jnp.square(jnp.maximum(0.0, 1 - t * p)).mean(),
        ),
        "CategoricalHinge": (
            "optax.losses.multiclass_hinge_loss(scores, int32 labels).mean()",
            lambda y, p: losses.multiclass_hinge_loss(p, y).mean(),
            class_indices,
        ),
    }


def tensorflow_classification(tf):
    a, gamma = FOCAL_ALPHA, FOCAL_GAMMA

    def binary_focal(t, x):
        ce = tf.nn.sigmoid_cross_entropy_with_logits(labels=t, logits=x)
        p = tf.sigmoid(x)
        p_t = t * p + (1 - t) * (1 - p)
        alpha_t = t * a + (1 - t) * (1 - a)
        return tf.reduce_mean(alpha_t * (1 - p_t) ** gamma * ce)

    def categorical_focal(t, x):
        log_p = tf.nn.log_softmax(x, axis=-1)
        return -tf.reduce_mean(tf.reduce_sum(t * (1 - tf.exp(log_p)) ** gamma * log_p, -1))

    def sparse_focal(y, x):
        log_p_y = tf.gather(tf.nn.log_softmax(x, axis=-1), y, axis=-1, batch_dims=1)
        return -tf.reduce_mean((1 - tf.exp(log_p_y)) ** gamma * log_p_y)

    def kl(t, x):
        return tf.reduce_mean(
            tf.reduce_sum(t * (tf.math.log(t) - tf.nn.log_softmax(x, axis=-1)), -1)
        )

    def categorical_hinge(t, s):
        true_score = tf.reduce_sum(t * s, -1)
        wrong = tf.reduce_max(tf.where(t > 0, tf.cast(-math.inf, s.dtype), s), -1)
        return tf.reduce_mean(tf.maximum(0.0, 1 + wrong - true_score))

    return {
        "BinaryCrossentropy": (
            "tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits)",
            lambda t, p: tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(t, p)),
        ),
        "BinaryFocalCrossentropy": (
            f"tf: mean(alpha_t (1 - p_t)^{gamma:g} sigmoid_ce_with_logits), alpha={a}",
            binary_focal,
        ),
        "CategoricalCrossentropy": (
            "tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits)",
            lambda t, p: tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(t, p)),
        ),
        "CategoricalFocalCrossentropy": (
            f"tf: -mean(sum(t (1 - p)^{gamma:g} log_softmax))",
            categorical_focal,
        ),
        "SparseCategoricalCrossentropy": (
            "tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits)",
            lambda y, p: tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=p)
            ),
        ),
        "SparseCategoricalFocalCrossentropy": (
            f"tf: -mean((1 - p_y)^{gamma:g} gather(log_softmax, y))",
            sparse_focal,
        ),
        "KLDivergence": ("tf: mean(sum(t (log t - log_softmax(x))))", kl),
        "Hinge": (
            "tf: mean(maximum(0, 1 - t s))",
            lambda t, p: tf.reduce_mean(tf.maximum(0.0, 1 - t * p)),
        ),
        "SquaredHinge": (
            "tf: mean(square(maximum(0, 1 - t s)))",
            lambda t, p: tf.reduce_mean(tf.square(tf.maximum(0.0, 1 - t * p))),
        ),
        "CategoricalHinge": (
            "tf: mean(maximum(0, 1 + max_{j != y} s_j - s_y))",
            categorical_hinge,
        ),
    }


def torch_backend(threads):
    import keras
    import torch
    import torch.nn.functional as F

    info = {}
    if threads > 0:
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(threads)
        except RuntimeError as e:  # only allowed before any inter-op work
            info["interop_error"] = str(e)
    info.update(
        intra_op=torch.get_num_threads(),
        inter_op=torch.get_num_interop_threads(),
    )
    q = QUANTILE

    def log_cosh(t, p):
        x = p - t
        return (x + F.softplus(-2.0 * x) - LOG2).mean()

    def pinball(t, p):
        e = t - p
        return torch.maximum(q * e, (q - 1.0) * e).mean()

    natives = {
        "MeanSquaredError": ("F.mse_loss", lambda t, p: F.mse_loss(p, t)),
        "MeanAbsoluteError": ("F.l1_loss", lambda t, p: F.l1_loss(p, t)),
        "Huber": (
            f"F.huber_loss(delta={HUBER_DELTA})",
            lambda t, p: F.huber_loss(p, t, delta=HUBER_DELTA),
        ),
        "LogCosh": ("torch: mean(x + softplus(-2x) - log 2)", log_cosh),
        "Pinball": ("torch: mean(maximum(q e, (q-1) e))", pinball),
        "Poisson": (
            f"F.poisson_nll_loss(log_input=False, eps={POISSON_EPS:g})",
            lambda t, p: F.poisson_nll_loss(p, t, log_input=False, full=False, eps=POISSON_EPS),
        ),
        "CosineProximity": (
            "-F.cosine_similarity(dim=-1).mean()",
            lambda t, p: -F.cosine_similarity(p, t, dim=-1).mean(),
        ),
        **torch_classification(torch, F),
    }

    def case(fn, mode, y_true, y_pred):
        # keras.ops places the tensors on Keras's device, which kloss and native both use.
        t = keras.ops.convert_to_tensor(y_true)
        p = keras.ops.convert_to_tensor(y_pred).detach().clone().requires_grad_(True)
        cuda = p.is_cuda

        def step():
            v = fn(t, p)
            (g,) = torch.autograd.grad(v, p)
            if cuda:
                torch.cuda.synchronize()
            # On CPU, eager torch ops run synchronously: v and g exist on return.
            return v, g

        return step

    def to_numpy(result):
        v, g = result
        return float(v.detach().cpu()), g.detach().cpu().numpy()

    return {
        "natives": natives,
        "modes": ("eager",),
        "case": case,
        "to_numpy": to_numpy,
        "versions": {"torch": torch.__version__},
        "threads": info,
        "sync": "torch CPU ops are synchronous (torch.cuda.synchronize() on GPU)",
    }


def jax_backend(threads):
    import jax
    import jax.numpy as jnp
    import keras
    import optax

    q = QUANTILE
    natives = {
        "MeanSquaredError": (
            "optax.losses.squared_error(...).mean()",
            lambda t, p: optax.losses.squared_error(p, t).mean(),
        ),
        "MeanAbsoluteError": ("jnp.abs(p - t).mean()", lambda t, p: jnp.abs(p - t).mean()),
        "Huber": (
            f"optax.losses.huber_loss(delta={HUBER_DELTA}).mean()",
            lambda t, p: optax.losses.huber_loss(p, t, delta=HUBER_DELTA).mean(),
        ),
        "LogCosh": (
            "optax.losses.log_cosh(...).mean()",
            lambda t, p: optax.losses.log_cosh(p, t).mean(),
        ),
        "Pinball": (
            "jnp: mean(maximum(q e, (q-1) e))",
            lambda t, p: jnp.maximum(q * (t - p), (q - 1.0) * (t - p)).mean(),
        ),
        "Poisson": (
            f"jnp: mean(p - t log(p + {POISSON_EPS:g}))",
            lambda t, p: (p - t * jnp.log(p + POISSON_EPS)).mean(),
        ),
        "CosineProximity": (
            "-optax.losses.cosine_similarity(...).mean()",
            lambda t, p: -optax.losses.cosine_similarity(p, t).mean(),
        ),
        **jax_classification(jax, jnp, optax),
    }

    def case(fn, mode, y_true, y_pred):
        t = keras.ops.convert_to_tensor(y_true)
        p = keras.ops.convert_to_tensor(y_pred)
        vg = jax.value_and_grad(lambda p_, t_: fn(t_, p_))
        if mode == "compiled":
            vg = jax.jit(vg)

        def step():
            return jax.block_until_ready(vg(p, t))

        return step

    def to_numpy(result):
        import numpy as np

        v, g = result
        return float(v), np.asarray(g)

    import jaxlib

    return {
        "natives": natives,
        "modes": MODES,
        "case": case,
        "to_numpy": to_numpy,
        "versions": {
            "jax": jax.__version__,
            "jaxlib": jaxlib.__version__,
            "optax": optax.__version__,
        },
        "threads": {
            "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
            "devices": [str(d) for d in jax.devices()],
        },
        "sync": "jax.block_until_ready((value, grad))",
    }


def tensorflow_backend(threads):
    import keras
    import tensorflow as tf

    info = {}
    if threads > 0:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError as e:  # the runtime was initialised already (env vars still hold)
            info["set_error"] = str(e)
    info.update(
        intra_op=tf.config.threading.get_intra_op_parallelism_threads(),
        inter_op=tf.config.threading.get_inter_op_parallelism_threads(),
        XLA_FLAGS=os.environ.get("XLA_FLAGS", ""),
    )
    q = QUANTILE

    def huber(t, p):
        # The usual hand-written TF Huber (as in tf.keras before Keras 3).
        e = p - t
        a = tf.abs(e)
        return tf.reduce_mean(
            tf.where(a <= HUBER_DELTA, 0.5 * tf.square(e), HUBER_DELTA * (a - 0.5 * HUBER_DELTA))
        )

    def log_cosh(t, p):
        x = p - t
        return tf.reduce_mean(x + tf.math.softplus(-2.0 * x) - LOG2)

    def cosine(t, p):
        dot = tf.reduce_sum(tf.nn.l2_normalize(t, axis=-1) * tf.nn.l2_normalize(p, axis=-1), -1)
        return -tf.reduce_mean(dot)

    natives = {
        "MeanSquaredError": (
            "tf.reduce_mean(tf.square(p - t))",
            lambda t, p: tf.reduce_mean(tf.square(p - t)),
        ),
        "MeanAbsoluteError": (
            "tf.reduce_mean(tf.abs(p - t))",
            lambda t, p: tf.reduce_mean(tf.abs(p - t)),
        ),
        "Huber": (f"tf.where Huber(delta={HUBER_DELTA})", huber),
        "LogCosh": ("tf: mean(x + softplus(-2x) - log 2)", log_cosh),
        "Pinball": (
            "tf: mean(maximum(q e, (q-1) e))",
            lambda t, p: tf.reduce_mean(tf.maximum(q * (t - p), (q - 1.0) * (t - p))),
        ),
        "Poisson": (
            f"tf: mean(p - t log(p + {POISSON_EPS:g}))",
            lambda t, p: tf.reduce_mean(p - t * tf.math.log(p + POISSON_EPS)),
        ),
        "CosineProximity": ("-mean(sum(l2_normalize(t) * l2_normalize(p)))", cosine),
        **tensorflow_classification(tf),
    }

    def case(fn, mode, y_true, y_pred):
        t = keras.ops.convert_to_tensor(y_true)
        p = keras.ops.convert_to_tensor(y_pred)

        def value_and_grad(t_, p_):
            with tf.GradientTape() as tape:
                tape.watch(p_)
                v = fn(t_, p_)
            return v, tape.gradient(v, p_)

        if mode == "compiled":
            value_and_grad = tf.function(value_and_grad, jit_compile=True)

        def step():
            v, g = value_and_grad(t, p)
            # Eager ops and tf.function calls on CPU return once their outputs exist (TF runs
            # synchronously by default); reading the scalar makes sure. g.numpy() is avoided:
            # it copies the gradient (~50 ms at 4096x1024), which would swamp the loss.
            v.numpy()
            return v, g

        return step

    def to_numpy(result):
        v, g = result
        return float(v.numpy()), g.numpy()

    return {
        "natives": natives,
        "modes": MODES,
        "case": case,
        "to_numpy": to_numpy,
        "versions": {"tensorflow": tf.__version__},
        "threads": info,
        "sync": "value.numpy() (TF executes synchronously on CPU)",
    }


# --------------------------------------------------------------------------- timing


def per_call_seconds(step, k):
    t0 = time.perf_counter()
    for _ in range(k):
        step()
    return (time.perf_counter() - t0) / k


def minor_faults():
    try:
        import resource
    except ImportError:  # not on Unix
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def timed_sample(step, k):
    """(seconds per call, minor page faults per call) of one sample of `k` calls."""
    f0 = minor_faults()
    t = per_call_seconds(step, k)
    return t, (minor_faults() - f0) / k


def calibrate(kloss_step, native_step, min_sample_s):
    """Repeats per sample so that the faster side's sample lasts at least `min_sample_s`."""
    probe = min(per_call_seconds(kloss_step, 3), per_call_seconds(native_step, 3))
    return max(1, min(100_000, math.ceil(min_sample_s / max(probe, 1e-9))))


def time_case(kloss_step, native_step, rounds, min_sample_s, repeats=None):
    """Interleaved rounds of one kloss and one native sample; `repeats` calls per sample
    (default: calibrated so that a sample lasts at least `min_sample_s`)."""
    k = repeats or calibrate(kloss_step, native_step, min_sample_s)
    kloss_t, native_t, ratios, kloss_f, native_f = [], [], [], [], []
    gc.collect()
    gc.disable()
    try:
        for r in range(rounds):
            if r % 2 == 0:
                tk, fk = timed_sample(kloss_step, k)
                tn, fn = timed_sample(native_step, k)
            else:
                tn, fn = timed_sample(native_step, k)
                tk, fk = timed_sample(kloss_step, k)
            kloss_t.append(tk)
            native_t.append(tn)
            ratios.append(tk / tn)
            kloss_f.append(fk)
            native_f.append(fn)
    finally:
        gc.enable()
    q = statistics.quantiles(ratios, n=4, method="inclusive") if len(ratios) > 1 else ratios * 3
    return {
        "kloss_us": statistics.median(kloss_t) * 1e6,
        "native_us": statistics.median(native_t) * 1e6,
        "ratio": statistics.median(ratios),
        "ratio_q1": q[0],
        "ratio_q3": q[2],
        "repeats": k,
        # Minor page faults per call (median): ~4096 per fresh 16 MiB buffer; see --malloc.
        "kloss_faults": statistics.median(kloss_f),
        "native_faults": statistics.median(native_f),
    }


def check_values(to_numpy, kloss_result, native_result):
    import numpy as np

    kv, kg = to_numpy(kloss_result)
    nv, ng = to_numpy(native_result)
    value_ok = bool(np.isclose(kv, nv, rtol=VALUE_RTOL, atol=VALUE_ATOL))
    scale = float(np.max(np.abs(ng))) or 1.0
    grad_err = float(np.max(np.abs(kg.astype(np.float64) - ng))) / scale
    grad_ok = bool(grad_err <= GRAD_TOL and kg.shape == ng.shape)
    return {
        "kloss_value": kv,
        "native_value": nv,
        "value_ok": value_ok,
        "grad_rel_err": grad_err,
        "grad_ok": grad_ok,
    }


# --------------------------------------------------------------------------- main


LOSS_WIDTH = max(map(len, LOSSES))


def fmt_table(records):
    W = LOSS_WIDTH
    head = (
        f"{'mode':8} {'loss':{W}} {'size':6} {'kloss us':>11} {'native us':>11} "
        f"{'ratio':>6} {'[q1, q3]':>13} {'rep':>5}  check"
    )
    lines = [head, "-" * len(head)]
    for r in records:
        if "error" in r:
            lines.append(f"{r['mode']:8} {r['loss']:{W}} {r['size']:6} ERROR: {r['error']}")
            continue
        check = "ok" if r["value_ok"] and r["grad_ok"] else "MISMATCH"
        spread = f"[{r['ratio_q1']:.2f}, {r['ratio_q3']:.2f}]"
        lines.append(
            f"{r['mode']:8} {r['loss']:{W}} {r['size']:6} {r['kloss_us']:11.1f} "
            f"{r['native_us']:11.1f} {r['ratio']:6.2f} {spread:>13} {r['repeats']:5d}  {check}"
        )
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    malloc_env = configure_malloc(args.malloc, sys.argv[1:] if argv is None else list(argv))
    thread_env = configure_thread_env(args.threads)
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend not in BACKENDS:
        sys.exit(f"bench.py: KERAS_BACKEND must be one of {BACKENDS}, got {backend!r}")
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)

    import keras
    import numpy as np

    import kloss

    if keras.backend.backend() != backend:
        sys.exit(f"bench.py: Keras runs {keras.backend.backend()!r}, expected {backend!r}")
    bk = {"torch": torch_backend, "jax": jax_backend, "tensorflow": tensorflow_backend}[backend](
        args.threads
    )
    modes = [m for m in args.modes if m in bk["modes"]]

    header = {
        "backend": backend,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "affinity_cpus": affinity(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            "kloss": getattr(kloss, "__version__", "?"),
            "keras": keras.__version__,
            "numpy": np.__version__,
            **bk["versions"],
        },
        "threads": {**thread_env, **bk["threads"]},
        "malloc": malloc_env,
        "sync": bk["sync"],
        "rounds": args.rounds,
        "sizes": {s: list(SIZES[s]) for s in args.sizes},
        "losses": args.losses,
        "modes": modes,
        "min_sample_ms": args.min_sample_ms,
        "warmup_calls": args.warmup,
        "hyper": {
            "huber_delta": HUBER_DELTA,
            "quantile": QUANTILE,
            "poisson_eps": POISSON_EPS,
            "focal_alpha": FOCAL_ALPHA,
            "focal_gamma": FOCAL_GAMMA,
        },
        "inputs": {
            k: v
            for k, v in INPUTS.items()
            if k in args.losses or (k == "regression" and set(args.losses) & set(REGRESSION))
        },
        "tolerances": {"value_rtol": VALUE_RTOL, "value_atol": VALUE_ATOL, "grad": GRAD_TOL},
        "loadavg_start": loadavg(),
    }
    print(
        f"[{backend}] keras {keras.__version__}, {header['cpu_model']}, "
        f"{header['cpu_count']} cpus, threads {bk['threads']}, malloc {malloc_env['mode']}, "
        f"rounds {args.rounds}",
        flush=True,
    )
    print("\n".join(fmt_table([]).splitlines()), flush=True)

    records = []
    for mode in modes:
        for size in args.sizes:
            for loss in args.losses:
                native_name, native_fn, *prepare = bk["natives"][loss]
                rec = {
                    "backend": backend,
                    "mode": mode,
                    "loss": loss,
                    "size": size,
                    "shape": list(SIZES[size]),
                    "native_name": native_name,
                }
                try:
                    y_true, y_pred = make_inputs(loss, size)
                    kloss_loss = kloss_instance(kloss, loss)
                    kloss_step = bk["case"](kloss_loss, mode, y_true, y_pred)
                    native_true = prepare[0](y_true) if prepare else y_true
                    native_step = bk["case"](native_fn, mode, native_true, y_pred)
                    for _ in range(args.warmup):  # compiles on the first call
                        kloss_result = kloss_step()
                        native_result = native_step()
                    rec.update(check_values(bk["to_numpy"], kloss_result, native_result))
                    del kloss_result, native_result
                    rec.update(
                        time_case(kloss_step, native_step, args.rounds, args.min_sample_ms / 1e3)
                    )
                except Exception as e:  # keep going; the record says what failed
                    rec["error"] = f"{type(e).__name__}: {e}".splitlines()[0][:300]
                records.append(rec)
                print(fmt_table([rec]).splitlines()[-1], flush=True)

    overhead = [
        {
            "backend": backend,
            "loss": r["loss"],
            "size": r["size"],
            "overhead_us": r["kloss_us"] - r["native_us"],
        }
        for r in records
        if r["mode"] == "eager" and r["size"] == "small" and "error" not in r
    ]
    mismatches = [
        {k: r[k] for k in ("backend", "mode", "loss", "size", "kloss_value", "native_value")}
        | {"grad_rel_err": r["grad_rel_err"], "value_ok": r["value_ok"], "grad_ok": r["grad_ok"]}
        for r in records
        if "error" not in r and not (r["value_ok"] and r["grad_ok"])
    ]
    errors = [r for r in records if "error" in r]
    header["loadavg_end"] = loadavg()

    if overhead:
        med = statistics.median(o["overhead_us"] for o in overhead)
        print(f"eager overhead per call at small (kloss - native): median {med:.1f} us")
    for m in mismatches:
        print(
            f"!!! VALUE MISMATCH [{backend}/{m['mode']}/{m['loss']}/{m['size']}]: kloss "
            f"{m['kloss_value']!r} vs native {m['native_value']!r}, grad rel err "
            f"{m['grad_rel_err']:.2e}",
            file=sys.stderr,
        )
    for r in errors:
        print(
            f"!!! ERROR [{backend}/{r['mode']}/{r['loss']}/{r['size']}]: {r['error']}",
            file=sys.stderr,
        )

    out = {
        "header": header,
        "records": records,
        "eager_overhead": overhead,
        "mismatches": mismatches,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {args.json}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
