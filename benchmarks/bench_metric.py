"""Times kloss's metric-learning losses at batch 256, 1024 and 4096 (D=128) on every backend,
against pytorch-metric-learning on torch, and measures their peak memory.

    python benchmarks/bench_metric.py [--backends torch,jax,tensorflow] [--sizes 256,1024,4096]
        [--losses TripletSemiHard,...|mining|contrastive] [--rounds N] [--case-seconds S]
        [--md benchmarks/RESULTS_METRIC.md | --no-md] [--render build/bench/metric/results.json]

The driver runs one worker process per backend (`--worker`, Keras fixes its backend at
import), merges their JSON into `build/bench/metric/results.json` and writes
`benchmarks/RESULTS_METRIC.md` (generated; never edit it by hand). Each case times value and
gradient (with respect to `y_pred`) of the scalar loss, kloss's class with its default
reduction against a reference on the same inputs:

- torch, eager: pytorch-metric-learning (pml) where it has the same algorithm, checked equal
  (value and gradient) before timing; pml's semi-hard triplets are another definition (every
  semi-hard triplet, not one negative per positive pair), timed as the same task and not
  checked. A few plain-torch formulas (SimCLR's and CLIP's cross-entropy, SigLIP's
  log-sigmoid) as second references.
- jax (`jax.jit`) and tensorflow (`tf.function(jit_compile=True)`): `optax.losses.ntxent`
  and jnp/TF formulas for the contrastive losses; absolute times for the mining losses
  (neither ecosystem ships them: tensorflow-addons is gone).

Timing reuses `bench.py`: interleaved rounds, alternating which side goes first, medians of
per-call times and of per-round ratios, glibc's malloc pinned, 1 thread per library. Rounds
per case are capped by `--case-seconds` (at least `--min-rounds`), so the large sizes get
fewer rounds; each record keeps its count.

Peak memory: for each side, one call with glibc's malloc switched (`mallopt`) to mmap every
allocation of 64 KiB or more and to return freed memory at once, the process's peak RSS reset
(`/proc/self/clear_refs`) just before the call; the peak RSS (`VmHWM`) minus the RSS before
the call is the memory the call added (inputs excluded, outputs and autograd's saved tensors
included). JAX also reports XLA's own count (`memory_analysis()` of the compiled program).
pml cases whose estimated peak exceeds `--max-native-gib` are skipped with the estimate as
the reason (its semi-hard miner and its pair-based NTXent and lifted-structure losses grow
as B^3 or B^4), and the torch worker runs under an address-space data limit
(`RLIMIT_DATA`, `--rlimit-gib`) so that a wrong estimate fails the case instead of the
machine.
"""

import argparse
import ctypes
import datetime
import gc
import json
import math
import os
import platform
import shlex
import statistics
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
    timed_sample,
)

BACKENDS = ("torch", "jax", "tensorflow")
SIZES = (256, 1024, 4096)
DIM = 128
PER_CLASS = 4  # P x K batches: B / 4 classes of 4 rows each
MINING = ("TripletSemiHard", "TripletHard", "LiftedStructure", "MultiSimilarity", "NPairs")
CONTRASTIVE = ("NTXent", "InfoNCE", "SupervisedContrastive", "SigLIP")
LOSSES = MINING + CONTRASTIVE
GROUPS = {"mining": MINING, "contrastive": CONTRASTIVE, "metric": LOSSES}
VIEW_LOSSES = ("NTXent", "InfoNCE", "SigLIP")  # y_pred (B, 2, D), y_true ignored
MARGIN = 1.0
TEMPERATURE = 0.1
SIGLIP_T, SIGLIP_BIAS = 10.0, -10.0
HYPER = {
    "TripletSemiHard": {"margin": MARGIN},
    "TripletHard": {"margin": MARGIN},
    "LiftedStructure": {"margin": MARGIN},
    "NTXent": {"temperature": TEMPERATURE},
    "InfoNCE": {"temperature": TEMPERATURE},
    "SupervisedContrastive": {"temperature": TEMPERATURE},
    "SigLIP": {"temperature": SIGLIP_T, "bias": SIGLIP_BIAS},
}
TARGET_RATIO = 1.5  # kloss / pml at B = 1024 on torch (the issue's target)
TARGET_SIZE = 1024
VALUE_RTOL = 1e-4
VALUE_ATOL = 1e-6
GRAD_TOL = 1e-3  # max |g_kloss - g_ref| relative to max |g_ref|
SEED = 20261126
GIB = 1 << 30
OUT_DIR = os.path.join(ROOT, "build", "bench", "metric")
MD = os.path.join(HERE, "RESULTS_METRIC.md")

# --------------------------------------------------------------------------- arguments


def _sizes(text):
    out = [int(s) for s in text.split(",") if s.strip()]
    if not out or any(b < 2 * PER_CLASS or b % (2 * PER_CLASS) for b in out):
        raise argparse.ArgumentTypeError(f"sizes must be multiples of {2 * PER_CLASS}")
    return out


def _losses(text):
    lowered = {n.lower(): n for n in LOSSES}
    out = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        names = GROUPS.get(item.lower()) or [lowered.get(item.lower())]
        if names[0] is None:
            raise argparse.ArgumentTypeError(
                f"unknown loss {item!r}; choose from {', '.join(LOSSES)} or {', '.join(GROUPS)}"
            )
        out.extend(n for n in names if n not in out)
    return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backends", default=",".join(BACKENDS), help="driver: default all three")
    p.add_argument("--sizes", type=_sizes, default=list(SIZES), help="default 256,1024,4096")
    p.add_argument(
        "--losses",
        type=_losses,
        default=list(LOSSES),
        help="kloss class names or the groups mining, contrastive, metric (default all)",
    )
    p.add_argument("--dim", type=int, default=DIM, help=f"embedding size D (default {DIM})")
    p.add_argument("--rounds", type=int, default=15, help="most timed rounds per case (15)")
    p.add_argument("--min-rounds", type=int, default=2, help="fewest timed rounds per case (2)")
    p.add_argument(
        "--case-seconds",
        type=float,
        default=2.0,
        help="rounds per case: as many as fit in this many seconds, within the two bounds "
        "above (default 2)",
    )
    p.add_argument("--min-sample-ms", type=float, default=1.0, help="as bench.py (default 1)")
    p.add_argument("--threads", type=int, default=1, help="as bench.py (default 1)")
    p.add_argument("--malloc", choices=("pinned", "default"), default="pinned")
    p.add_argument(
        "--max-native-gib",
        type=float,
        default=6.0,
        help="skip a pml case whose estimated peak memory is above this (default 6)",
    )
    p.add_argument(
        "--rlimit-gib",
        type=float,
        default=12.0,
        help="RLIMIT_DATA of the torch worker (default 12; 0: none)",
    )
    p.add_argument("--out-dir", default=OUT_DIR, help="JSON results (build/bench/metric)")
    p.add_argument("--md", default=MD, help="the report (benchmarks/RESULTS_METRIC.md)")
    p.add_argument("--no-md", action="store_true", help="do not write the report")
    p.add_argument("--render", metavar="RESULTS_JSON", help="only rewrite the report from JSON")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not args.backends or any(b not in BACKENDS for b in args.backends):
        p.error(f"--backends: choose from {', '.join(BACKENDS)}")
    if args.min_rounds < 1 or args.rounds < args.min_rounds:
        p.error("need 1 <= --min-rounds <= --rounds")
    return args


# --------------------------------------------------------------------------- inputs


def make_inputs(loss, batch, dim):
    """Seeded `(y_true, y_pred)` NumPy arrays.

    Label losses: int32 labels of B / 4 classes with 4 rows each (shuffled), embeddings =
    class centre (scale 0.5) + unit noise, so positives are nearer on average and the
    negatives' distances overlap the positives' (semi-hard negatives exist). View losses:
    `y_pred (B, 2, D)`, two noisy views (noise 0.5) of a unit Gaussian sample, `y_true`
    zeros `(B,)`.
    """
    import numpy as np

    rng = np.random.default_rng([SEED, LOSSES.index(loss), batch])
    if loss in VIEW_LOSSES:
        base = rng.standard_normal((batch, 1, dim))
        views = base + 0.5 * rng.standard_normal((batch, 2, dim))
        return np.zeros(batch, np.float32), views.astype(np.float32)
    labels = np.repeat(np.arange(batch // PER_CLASS), PER_CLASS)
    rng.shuffle(labels)
    centres = 0.5 * rng.standard_normal((batch // PER_CLASS, dim))
    x = centres[labels] + rng.standard_normal((batch, dim))
    return labels.astype(np.int32), x.astype(np.float32)


def stack_views(y_pred):
    """(B, 2, D) -> (2B, D): every sample's first view, then every second view (how
    pml's and optax's NT-Xent take them, with labels pairing row i and row B + i)."""
    import numpy as np

    return np.concatenate([y_pred[:, 0], y_pred[:, 1]], axis=0)


def unstack_grad(g):
    """Gradient of the stacked (2B, D) embeddings back to kloss's (B, 2, D) layout."""
    import numpy as np

    b = g.shape[0] // 2
    return np.stack([g[:b], g[b:]], axis=1)


def view_labels(y_true):
    import numpy as np

    b = y_true.shape[0]
    return np.concatenate([np.arange(b), np.arange(b)]).astype(np.int64)


def int64(y_true):
    return y_true.astype("int64")


# --------------------------------------------------------------------------- pml estimates
#
# Peak bytes of pml's forward and backward, from its code (pytorch-metric-learning 2.9):
# used to skip the cases that would not fit, and recorded next to the measured peak.


def _triplets(b):
    return b * (PER_CLASS - 1) * (b - PER_CLASS)  # all (anchor, positive, negative)


def est_semihard(b):
    # get_all_triplets_indices: a (B, B, B) uint8 product and torch.where's int64 indices
    # (B^3 < 2^31), or per-anchor index lists concatenated (larger B); the miner's gathered
    # distances and masks over every triplet.
    t = _triplets(b)
    return (b**3 + 64 * t) if b**3 < 2**31 - 1 else 64 * t


def est_ntxent(b):
    # pair-based: n_per_p is (positive pairs, negative pairs) = (2B, 2B (2B - 2)) floats,
    # times about four live copies (mask, product, select, exp).
    n = 2 * b
    return 17 * n * n * (n - 2)


def est_lifted(b):
    # pair-based: (positive pairs, negative pairs) = (B (K-1), B (B-K)) floats, ~6 copies.
    return 25 * (b * (PER_CLASS - 1)) * (b * (b - PER_CLASS))


def est_optax_ntxent(b, dim):
    # optax.losses.ntxent takes cosines by broadcasting: (2B, 2B, D) floats, ~4 live copies
    # with the gradient.
    n = 2 * b
    return 16 * n * n * dim


def est_matrix(b):
    # (B, B) distances, float masks, all-pairs int64 indices, log-sum-exp temporaries.
    return 64 * b * b


# --------------------------------------------------------------------------- references
#
# A reference: dict(name, fn(y_true, y_pred) -> scalar, check: "equal" | "definition",
# prepare_true / prepare_pred (NumPy, before timing), grad_back (its gradient in kloss's
# layout), estimate(B) -> bytes or None, source: "pml" | "formula" | "optax").


def torch_references(torch, F):
    from pytorch_metric_learning import distances, losses, miners, reducers

    sq = distances.LpDistance(power=2, normalize_embeddings=False)

    def semihard(t, p):
        miner = miners.TripletMarginMiner(margin=MARGIN, type_of_triplets="semihard", distance=sq)
        return losses.TripletMarginLoss(margin=MARGIN, distance=sq)(p, t, miner(p, t))

    def batch_hard(t, p):
        miner = miners.BatchHardMiner(distance=sq)
        loss = losses.TripletMarginLoss(margin=MARGIN, distance=sq, reducer=reducers.MeanReducer())
        return loss(p, t, miner(p, t))

    lifted = losses.LiftedStructureLoss(
        neg_margin=MARGIN, pos_margin=0, distance=distances.LpDistance(normalize_embeddings=False)
    )
    ms = losses.MultiSimilarityLoss()
    npairs = losses.NPairsLoss(distance=distances.DotProductSimilarity(normalize_embeddings=False))
    ntxent = losses.NTXentLoss(temperature=TEMPERATURE)
    supcon = losses.SupConLoss(temperature=TEMPERATURE)

    def simclr(t, z):
        # SimCLR's usual code: (2B, 2B) cosine logits, the diagonal masked, CE with the
        # partner view as target.
        z = F.normalize(z, dim=1)
        logits = (z @ z.T) / TEMPERATURE
        n = z.shape[0]
        eye = torch.eye(n, dtype=torch.bool)
        logits = logits.masked_fill(eye, float("-inf"))
        target = (torch.arange(n) + n // 2) % n
        return F.cross_entropy(logits, target)

    def clip(t, p):
        u, v = F.normalize(p[:, 0], dim=1), F.normalize(p[:, 1], dim=1)
        logits = (u @ v.T) / TEMPERATURE
        return F.cross_entropy(logits, torch.arange(p.shape[0]))

    def siglip(t, p):
        u, v = F.normalize(p[:, 0], dim=1), F.normalize(p[:, 1], dim=1)
        logits = SIGLIP_T * (u @ v.T) + SIGLIP_BIAS
        z = 2 * torch.eye(p.shape[0]) - 1
        return -F.logsigmoid(z * logits).sum() / p.shape[0]

    pml = dict(source="pml", prepare_true=int64)
    return {
        "TripletSemiHard": [
            dict(
                pml,
                name="pml TripletMarginMiner(semihard) + TripletMarginLoss",
                fn=semihard,
                check="definition",
                estimate=est_semihard,
            )
        ],
        "TripletHard": [
            dict(
                pml,
                name="pml BatchHardMiner + TripletMarginLoss(MeanReducer)",
                fn=batch_hard,
                check="equal",
                estimate=lambda b: 64 * b * b,
            )
        ],
        "LiftedStructure": [
            dict(
                pml,
                name="pml LiftedStructureLoss(LpDistance(normalize_embeddings=False))",
                fn=lambda t, p: lifted(p, t),
                check="equal",
                estimate=est_lifted,
            )
        ],
        "MultiSimilarity": [
            dict(
                pml,
                name="pml MultiSimilarityLoss",
                fn=lambda t, p: ms(p, t),
                check="equal",
                estimate=est_matrix,
            )
        ],
        "NPairs": [
            dict(
                pml,
                name="pml NPairsLoss(DotProductSimilarity(normalize_embeddings=False))",
                fn=lambda t, p: npairs(p, t),
                check="equal",
                estimate=lambda b: 32 * b * b,
            )
        ],
        "NTXent": [
            dict(
                source="pml",
                name="pml NTXentLoss (2B stacked views)",
                fn=lambda t, p: ntxent(p, t),
                check="equal",
                estimate=est_ntxent,
                prepare_true=view_labels,
                prepare_pred=stack_views,
                grad_back=unstack_grad,
            ),
            dict(
                source="formula",
                name="torch: SimCLR F.cross_entropy over (2B, 2B) logits",
                fn=simclr,
                check="equal",
                prepare_pred=stack_views,
                grad_back=unstack_grad,
            ),
        ],
        "InfoNCE": [
            dict(
                source="formula",
                name="torch: CLIP F.cross_entropy(u v^T / t, arange(B))",
                fn=clip,
                check="equal",
            )
        ],
        "SupervisedContrastive": [
            dict(
                pml,
                name="pml SupConLoss",
                fn=lambda t, p: supcon(p, t),
                check="equal",
                estimate=est_matrix,
            )
        ],
        "SigLIP": [
            dict(
                source="formula",
                name="torch: -sum(F.logsigmoid(z * logits)) / B",
                fn=siglip,
                check="equal",
            )
        ],
    }


def jax_references(jax, jnp, optax, dim):
    def unit(x):
        return x / jnp.linalg.norm(x, axis=-1, keepdims=True)

    def clip(t, p):
        logits = unit(p[:, 0]) @ unit(p[:, 1]).T / TEMPERATURE
        labels = jnp.arange(p.shape[0])
        return optax.losses.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

    def siglip(t, p):
        logits = SIGLIP_T * (unit(p[:, 0]) @ unit(p[:, 1]).T) + SIGLIP_BIAS
        z = 2 * jnp.eye(p.shape[0]) - 1
        return -jax.nn.log_sigmoid(z * logits).sum() / p.shape[0]

    def simclr(t, z):
        z = unit(z)
        n = z.shape[0]
        logits = jnp.where(jnp.eye(n, dtype=bool), -jnp.inf, z @ z.T / TEMPERATURE)
        target = (jnp.arange(n) + n // 2) % n
        return optax.losses.softmax_cross_entropy_with_integer_labels(logits, target).mean()

    return {
        "NTXent": [
            dict(
                source="optax",
                name="optax.losses.ntxent (2B stacked views)",
                fn=lambda t, p: optax.losses.ntxent(p, t, TEMPERATURE),
                check="equal",
                estimate=lambda b: est_optax_ntxent(b, dim),
                prepare_true=view_labels,
                prepare_pred=stack_views,
                grad_back=unstack_grad,
            ),
            dict(
                source="formula",
                name="jnp: SimCLR softmax_cross_entropy_with_integer_labels, (2B, 2B) logits",
                fn=simclr,
                check="equal",
                prepare_pred=stack_views,
                grad_back=unstack_grad,
            ),
        ],
        "InfoNCE": [
            dict(
                source="optax",
                name="optax softmax_cross_entropy_with_integer_labels(u v^T / t)",
                fn=clip,
                check="equal",
            )
        ],
        "SigLIP": [
            dict(
                source="formula",
                name="jnp: -sum(log_sigmoid(z * logits)) / B",
                fn=siglip,
                check="equal",
            )
        ],
    }


def tensorflow_references(tf):
    def unit(x):
        return tf.math.l2_normalize(x, axis=-1)

    def clip(t, p):
        logits = tf.matmul(unit(p[:, 0]), unit(p[:, 1]), transpose_b=True) / TEMPERATURE
        labels = tf.range(tf.shape(p)[0])
        return tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        )

    def simclr(t, z):
        z = unit(z)
        n = tf.shape(z)[0]
        logits = tf.matmul(z, z, transpose_b=True) / TEMPERATURE
        logits = tf.where(tf.eye(n, dtype=tf.bool), tf.cast(-math.inf, z.dtype), logits)
        target = (tf.range(n) + n // 2) % n
        return tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=logits)
        )

    def siglip(t, p):
        logits = SIGLIP_T * tf.matmul(unit(p[:, 0]), unit(p[:, 1]), transpose_b=True)
        logits += SIGLIP_BIAS
        z = 2 * tf.eye(tf.shape(p)[0]) - 1
        return -tf.reduce_sum(tf.math.log_sigmoid(z * logits)) / tf.cast(tf.shape(p)[0], p.dtype)

    return {
        "NTXent": [
            dict(
                source="formula",
                name="tf: SimCLR sparse_softmax_cross_entropy over (2B, 2B) logits",
                fn=simclr,
                check="equal",
                prepare_pred=stack_views,
                grad_back=unstack_grad,
            )
        ],
        "InfoNCE": [
            dict(
                source="formula",
                name="tf: CLIP sparse_softmax_cross_entropy(u v^T / t, range(B))",
                fn=clip,
                check="equal",
            )
        ],
        "SigLIP": [
            dict(
                source="formula",
                name="tf: -sum(log_sigmoid(z * logits)) / B",
                fn=siglip,
                check="equal",
            )
        ],
    }


# --------------------------------------------------------------------------- backends
#
# make_step(fn, y_true, y_pred) -> (step, info): step() computes value and gradient w.r.t.
# y_pred, waits for both and returns them; info: compile seconds and XLA's memory counts.


def torch_backend(threads, dim):
    import keras
    import torch
    import torch.nn.functional as F

    if threads > 0:
        torch.set_num_threads(threads)

    def make_step(fn, y_true, y_pred):
        t = keras.ops.convert_to_tensor(y_true)
        p = keras.ops.convert_to_tensor(y_pred).detach().clone().requires_grad_(True)

        def step():
            v = fn(t, p)
            (g,) = torch.autograd.grad(v, p)
            return v, g

        return step, {}

    def to_numpy(result):
        v, g = result
        return float(v.detach()), g.detach().numpy()

    return dict(
        mode="eager",
        make_step=make_step,
        to_numpy=to_numpy,
        references=torch_references(torch, F),
        versions={"torch": torch.__version__, "pytorch-metric-learning": _pml_version()},
        threads={"intra_op": torch.get_num_threads()},
    )


def _pml_version():
    import pytorch_metric_learning

    return pytorch_metric_learning.__version__


def jax_backend(threads, dim):
    import jax
    import jax.numpy as jnp
    import keras
    import optax

    def make_step(fn, y_true, y_pred):
        t = keras.ops.convert_to_tensor(y_true)
        p = keras.ops.convert_to_tensor(y_pred)
        t0 = time.perf_counter()
        compiled = jax.jit(jax.value_and_grad(lambda p_, t_: fn(t_, p_))).lower(p, t).compile()
        info = {"compile_s": time.perf_counter() - t0}
        try:
            ma = compiled.memory_analysis()
            info["xla_temp_bytes"] = int(ma.temp_size_in_bytes)
            info["xla_output_bytes"] = int(ma.output_size_in_bytes)
        except Exception as e:  # not every jaxlib reports it
            info["xla_memory_error"] = str(e)[:200]

        def step():
            return jax.block_until_ready(compiled(p, t))

        return step, info

    def to_numpy(result):
        import numpy as np

        v, g = result
        return float(v), np.asarray(g)

    return dict(
        mode="jax.jit",
        make_step=make_step,
        to_numpy=to_numpy,
        references=jax_references(jax, jnp, optax, dim),
        versions={"jax": jax.__version__, "optax": optax.__version__},
        threads={"XLA_FLAGS": os.environ.get("XLA_FLAGS", "")},
    )


def tensorflow_backend(threads, dim):
    import keras
    import tensorflow as tf

    if threads > 0:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            pass

    def make_step(fn, y_true, y_pred):
        t = keras.ops.convert_to_tensor(y_true)
        p = keras.ops.convert_to_tensor(y_pred)

        @tf.function(jit_compile=True)
        def value_and_grad(t_, p_):
            with tf.GradientTape() as tape:
                tape.watch(p_)
                v = fn(t_, p_)
            return v, tape.gradient(v, p_)

        t0 = time.perf_counter()
        value_and_grad(t, p)[0].numpy()  # traces and compiles
        info = {"compile_s": time.perf_counter() - t0}

        def step():
            v, g = value_and_grad(t, p)
            v.numpy()  # TF runs synchronously on CPU; reading the scalar makes sure
            return v, g

        return step, info

    def to_numpy(result):
        v, g = result
        # A gradient that only flows through a gather (kloss NPairs) is an IndexedSlices.
        return float(v.numpy()), tf.convert_to_tensor(g).numpy()

    return dict(
        mode="tf.function(jit_compile=True)",
        make_step=make_step,
        to_numpy=to_numpy,
        references=tensorflow_references(tf),
        versions={"tensorflow": tf.__version__},
        threads={
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
        },
    )


# --------------------------------------------------------------------------- memory

_M_MMAP_THRESHOLD = -3
_M_MMAP_MAX = -4


def _libc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018  (glibc only)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return libc
    except (OSError, AttributeError):
        return None


def _status_bytes(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def measure_call(libc, step):
    """(result, seconds, peak bytes added) of one `step()`: see the module docstring.

    Allocations of 64 KiB and more are mmapped for this call only and unmapped when freed, so
    the RSS follows the live buffers; the peak RSS is reset just before the call. Without
    glibc or /proc (libc None), the peak is None."""
    gc.collect()
    if libc is None:
        t0 = time.perf_counter()
        result = step()
        return result, time.perf_counter() - t0, None
    libc.mallopt(_M_MMAP_MAX, 1 << 20)
    libc.mallopt(_M_MMAP_THRESHOLD, 64 * 1024)
    libc.malloc_trim(0)
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        base = _status_bytes("VmRSS")
        t0 = time.perf_counter()
        result = step()
        seconds = time.perf_counter() - t0
        peak = _status_bytes("VmHWM") - base
    finally:
        libc.mallopt(_M_MMAP_MAX, 0)  # back to bench.py's pinned heap (--malloc pinned)
    return result, seconds, max(peak, 0)


# --------------------------------------------------------------------------- timing


def plan(call_s, args):
    """(repeats per sample, rounds) for a case whose calls take `call_s` seconds (both
    sides together)."""
    fastest = max(min(call_s), 1e-9)
    repeats = max(1, math.ceil(args.min_sample_ms / 1e3 / fastest))
    per_round = sum(call_s) * repeats
    rounds = int(args.case_seconds / max(per_round, 1e-9))
    return repeats, max(args.min_rounds, min(args.rounds, rounds))


def time_single(step, rounds, repeats):
    times = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(rounds):
            times.append(timed_sample(step, repeats)[0])
    finally:
        gc.enable()
    return {"kloss_us": statistics.median(times) * 1e6, "repeats": repeats}


def compare(to_numpy, kloss_result, ref_result, grad_back):
    import numpy as np

    kv, kg = to_numpy(kloss_result)
    nv, ng = to_numpy(ref_result)
    if grad_back is not None:
        ng = grad_back(ng)
    scale = float(np.max(np.abs(ng))) or 1.0
    same_shape = kg.shape == ng.shape
    err = float(np.max(np.abs(kg.astype(np.float64) - ng))) / scale if same_shape else math.inf
    return {
        "kloss_value": kv,
        "native_value": nv,
        "value_ok": bool(np.isclose(kv, nv, rtol=VALUE_RTOL, atol=VALUE_ATOL)),
        "grad_rel_err": err,
        "grad_ok": bool(err <= GRAD_TOL),
    }


# --------------------------------------------------------------------------- worker


def fmt_line(r):
    def ms(x):
        return f"{x / 1e3:10.2f}" if x is not None else f"{'-':>10}"

    def mib(x):
        return f"{x / 2**20:8.1f}" if x is not None else f"{'-':>8}"

    head = f"{r['loss']:22} {r['batch']:5d} {r.get('native_source', '-'):8}"
    if "error" in r:
        return f"{head} ERROR: {r['error']}"
    if r.get("skipped"):
        return f"{head} {ms(r.get('kloss_us'))} {'skipped':>10}        {r['skipped']}"
    ratio = f"{_ratio(r.get('ratio')):>6}"
    return (
        f"{head} {ms(r.get('kloss_us'))} {ms(r.get('native_us'))} {ratio} "
        f"{r['rounds']:3d} {mib(r.get('kloss_peak_bytes'))} {mib(r.get('native_peak_bytes'))}"
        f"  {r.get('check', '-')}"
    )


def run_worker(args, argv):
    malloc_env = configure_malloc(args.malloc, argv, script=__file__)
    thread_env = configure_thread_env(args.threads)
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend not in BACKENDS:
        sys.exit(f"bench_metric.py: KERAS_BACKEND must be one of {BACKENDS}")
    rlimit = None
    if backend == "torch" and args.rlimit_gib > 0:
        import resource

        rlimit = int(args.rlimit_gib * GIB)
        resource.setrlimit(resource.RLIMIT_DATA, (rlimit, rlimit))
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)

    import keras
    import numpy as np

    import kloss

    bk = {"torch": torch_backend, "jax": jax_backend, "tensorflow": tensorflow_backend}[backend](
        args.threads, args.dim
    )
    libc = _libc()
    header = {
        "backend": backend,
        "mode": bk["mode"],
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "affinity_cpus": affinity(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {"keras": keras.__version__, "numpy": np.__version__, **bk["versions"]},
        "threads": {**thread_env, **bk["threads"]},
        "malloc": malloc_env,
        "rlimit_data_bytes": rlimit,
        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
        "memory_method": "mallopt mmap >= 64 KiB + clear_refs/VmHWM"
        if libc
        else "unavailable (no glibc or /proc)",
        "sizes": args.sizes,
        "dim": args.dim,
        "per_class": PER_CLASS,
        "losses": args.losses,
        "rounds_max": args.rounds,
        "rounds_min": args.min_rounds,
        "case_seconds": args.case_seconds,
        "min_sample_ms": args.min_sample_ms,
        "max_native_gib": args.max_native_gib,
        "tolerances": {"value_rtol": VALUE_RTOL, "value_atol": VALUE_ATOL, "grad": GRAD_TOL},
        "hyper": HYPER,
        "loadavg_start": loadavg(),
    }
    print(
        f"[{backend}, {bk['mode']}] keras {keras.__version__}, threads {args.threads}, "
        f"malloc {malloc_env['mode']}, memory {header['memory_method']}",
        flush=True,
    )
    print(
        f"{'loss':22} {'B':>5} {'ref':8} {'kloss ms':>10} {'ref ms':>10} {'ratio':>6} "
        f"{'rds':>3} {'kl MiB':>8} {'ref MiB':>8}  check",
        flush=True,
    )
    records = []
    for batch in args.sizes:
        for loss in args.losses:
            records.extend(run_case(args, bk, kloss, libc, backend, loss, batch))
    header["loadavg_end"] = loadavg()
    out = {"header": header, "records": records}
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {args.json}", flush=True)
    return 1 if any("error" in r for r in records) else 0


def run_case(args, bk, kloss, libc, backend, loss, batch):
    """Records for one (loss, B): one per reference (kloss alone where there is none)."""
    base = {
        "backend": backend,
        "mode": bk["mode"],
        "loss": loss,
        "batch": batch,
        "dim": args.dim,
        "y_pred_shape": [batch, 2, args.dim] if loss in VIEW_LOSSES else [batch, args.dim],
    }
    refs = bk["references"].get(loss) or [None]
    records = []
    try:
        y_true, y_pred = make_inputs(loss, batch, args.dim)
        kloss_loss = getattr(kloss, loss)(**HYPER.get(loss, {}))
        k_step, k_info = bk["make_step"](kloss_loss, y_true, y_pred)
        k_result, k_s, k_peak = measure_call(libc, k_step)
        base.update(
            kloss_first_call_s=k_s,
            kloss_peak_bytes=k_peak,
            **{f"kloss_{k}": v for k, v in k_info.items()},
        )
    except Exception as e:
        rec = dict(base, error=f"kloss: {type(e).__name__}: {e}".splitlines()[0][:300])
        print(fmt_line(rec), flush=True)
        return [rec]
    for ref in refs:
        rec = dict(base)
        try:
            if ref is None:
                rec.update(native_source="-", native_name=None)
            else:
                rec.update(
                    time_reference(
                        args, bk, libc, ref, batch, y_true, y_pred, k_step, k_s, k_result
                    )
                )
            rec["check"] = _check_label(ref, rec)
        except Exception as e:
            rec["error"] = f"{type(e).__name__}: {e}".splitlines()[0][:300]
        rec.setdefault("kloss_value", bk["to_numpy"](k_result)[0])
        records.append(rec)
    # kloss's time where no reference was timed: from another reference's record, or alone.
    timed = [r for r in records if "kloss_us" in r]
    alone = [r for r in records if "kloss_us" not in r and "error" not in r]
    if alone:
        try:
            if timed:
                kloss_time = {"kloss_us": timed[0]["kloss_us"], "rounds": timed[0]["rounds"]}
            else:
                if k_s < 2.0:
                    k_step()  # the pinned heap faults its pages in again
                repeats, rounds = plan([k_s], args)
                kloss_time = dict(time_single(k_step, rounds, repeats), rounds=rounds)
            for r in alone:
                r.update(kloss_time)
        except Exception as e:
            for r in alone:
                r["error"] = f"{type(e).__name__}: {e}".splitlines()[0][:300]
    for r in records:
        print(fmt_line(r), flush=True)
    del k_result
    return records


def _check_label(ref, rec):
    if ref is None or rec.get("skipped"):
        return "-"
    if ref["check"] == "definition":
        return "differs by definition"
    return "ok" if rec["value_ok"] and rec["grad_ok"] else "MISMATCH"


def time_reference(args, bk, libc, ref, batch, y_true, y_pred, k_step, k_s, k_result):
    rec = {"native_source": ref["source"], "native_name": ref["name"]}
    estimate = ref.get("estimate")
    if estimate is not None:
        est = estimate(batch)
        rec["native_estimate_bytes"] = est
        if est > args.max_native_gib * GIB:
            rec["skipped"] = (
                f"estimated peak {est / GIB:.1f} GiB > --max-native-gib {args.max_native_gib:g}"
            )
            return rec
    n_true = ref["prepare_true"](y_true) if "prepare_true" in ref else y_true
    n_pred = ref["prepare_pred"](y_pred) if "prepare_pred" in ref else y_pred
    n_step, n_info = bk["make_step"](ref["fn"], n_true, n_pred)
    rec.update({f"native_{k}": v for k, v in n_info.items()})
    n_result, n_s, n_peak = measure_call(libc, n_step)
    rec["native_first_call_s"] = n_s
    rec["native_peak_bytes"] = n_peak
    rec.update(compare(bk["to_numpy"], k_result, n_result, ref.get("grad_back")))
    del n_result
    # One more call per side on the pinned heap (it faults its pages in again), where cheap;
    # its time plans the repeats and rounds.
    k_s = _probe(k_step) if k_s < 2.0 else k_s
    n_s = _probe(n_step) if n_s < 2.0 else n_s
    repeats, rounds = plan([k_s, n_s], args)
    rec.update(
        time_case(k_step, n_step, rounds, args.min_sample_ms / 1e3, repeats=repeats),
        rounds=rounds,
    )
    return rec


def _probe(step):
    t0 = time.perf_counter()
    step()
    return time.perf_counter() - t0


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
        if backend == "tensorflow":
            # oneDNN's CPU allocator pools large buffers (a BFC pool that never shrinks), so
            # the RSS would not show a call's peak; with it off TF allocates with malloc.
            # Every case here is XLA-compiled, which does not use TF's oneDNN kernels.
            env["TF_ENABLE_ONEDNN_OPTS"] = "0"
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
        "command": shlex.join(["python", "benchmarks/bench_metric.py", *argv]),
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
        if any(a.startswith(o + "=") for o in with_value):
            continue
        out.append(a)
    return out


# --------------------------------------------------------------------------- report


def _ms(us):
    if us is None:
        return "-"
    ms = us / 1e3
    return f"{ms:,.2f}" if ms < 10 else f"{ms:,.1f}" if ms < 1000 else f"{ms:,.0f}"


def _ratio(x):
    return "-" if x is None else f"{x:.2f}" if x >= 0.1 else f"{x:.3f}"


def _mib(b):
    return "-" if b is None else f"{b / 2**20:,.1f}"


def _per_b2(b, batch):
    return "-" if b is None else f"{b / batch**2:.1f}"


def _key(r):
    return (
        BACKENDS.index(r["backend"]),
        LOSSES.index(r["loss"]),
        r["batch"],
        r.get("native_source", "-") != "pml",
    )


def _scaling(values):
    """Bytes per B^2 at the largest size over bytes per B^2 at the one before it."""
    pts = sorted((b, v) for b, v in values if v)
    if len(pts) < 2:
        return None
    (b1, v1), (b2, v2) = pts[-2], pts[-1]
    return (v2 / b2**2) / (v1 / b1**2)


def _order(growth):
    if growth is None:
        return "-"
    # Per x4 in B: bytes/B^2 is flat for O(B^2) (x1.2 for B^2 log B), x4 for O(B^3). Far
    # below 1: the implementation changed between the sizes (pml's semi-hard miner).
    if growth < 0.4:
        return "shrinks: another algorithm"
    return "O(B^2)" if growth < 2.0 else "O(B^3)" if growth < 8.0 else "O(B^4)"


def markdown(merged):
    runs = merged["runs"]
    recs = sorted(merged["records"], key=_key)
    first = runs[0] if runs else {}
    sizes = sorted({r["batch"] for r in recs})
    out = [
        "# kloss metric-learning benchmark",
        "",
        "Generated by `benchmarks/bench_metric.py`; do not edit by hand (see "
        "`benchmarks/README.md`, section *Metric-learning losses*).",
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
            f"- {h['backend']} ({h['mode']}): {versions}; threads {h['threads'].get('requested')}"
            f"; malloc {h['malloc'].get('mode')}; load average {h['loadavg_start']} at start, "
            f"{h['loadavg_end']} at end"
        )
    out += [
        "",
        "## Method",
        "",
        f"B = rows of `y_pred`, D = {first.get('dim', DIM)}, float32: label losses take "
        f"`(B, D)` embeddings and int32 labels of B/{PER_CLASS} classes x {PER_CLASS} rows; "
        "NTXent, InfoNCE and SigLIP take `(B, 2, D)` (two views: NTXent's similarity matrix "
        "is 2B x 2B). One call = value and gradient w.r.t. `y_pred`, kloss's class with its "
        "default reduction. Hyperparameters: margin 1.0 (squared Euclidean for the triplet "
        "losses), temperature 0.1, MultiSimilarity (2, 50, 0.5), SigLIP (10, -10).",
        "",
        "- Timing as `bench.py`: warm-up (compilation), then rounds of one kloss and one "
        "reference sample, interleaved, alternating which goes first; times are medians of "
        "per-call times, **ratio** the median of per-round kloss / reference (lower is "
        f"better). Rounds per case: as many as fit in {first.get('case_seconds')} s, between "
        f"{first.get('rounds_min')} and {first.get('rounds_max')} (column `rounds`: the "
        "4096 cases get the fewest).",
        "- Checks: before timing, kloss's value (rtol 1e-4) and gradient (1e-3 of the largest "
        "entry) must equal the reference's where both compute the same loss (`ok`); pml's "
        "semi-hard mining is another definition (`differs by definition`): same task, "
        "timed, not compared.",
        "- Peak memory: the RSS a call adds at its peak (one call, allocations >= 64 KiB "
        "mmapped and unmapped on free, peak RSS reset before it): outputs, temporaries and "
        "autograd's saved tensors, not the inputs. `XLA temp` is JAX's own "
        "`memory_analysis()` of the compiled program.",
        f"- pml cases whose estimated peak exceeds {first.get('max_native_gib')} GiB are "
        "skipped (the reason gives the estimate); the torch worker runs under "
        f"RLIMIT_DATA = {(first.get('rlimit_data_bytes') or 0) / GIB:.0f} GiB.",
        "",
    ]
    out += _summary(recs, sizes)
    # ---- torch vs pml
    torch_recs = [r for r in recs if r["backend"] == "torch"]
    if torch_recs:
        out += [
            "## torch (eager) against pytorch-metric-learning",
            "",
            f"Target: kloss / pml <= {TARGET_RATIO} at B = {TARGET_SIZE}.",
            "",
        ]
        out += _target_lines(torch_recs)
        out += ["", "Ratios kloss / reference:", ""]
        out += _ratio_table(torch_recs, sizes)
        out += [
            "",
            "| loss | reference | B | kloss ms | ref ms | ratio | rounds | check | "
            "kloss MiB | ref MiB |",
            "|---|---|---:|---:|---:|---:|---:|---|---:|---:|",
        ]
        out += [_row(r) for r in torch_recs]
        out.append("")
    # ---- jax / tf
    for backend in ("jax", "tensorflow"):
        brecs = [r for r in recs if r["backend"] == backend]
        if not brecs:
            continue
        mode = brecs[0]["mode"]
        out += [f"## {backend} ({mode})", ""]
        out += ["Ratios kloss / reference (none for the mining losses):", ""]
        out += _ratio_table(brecs, sizes)
        out += [
            "",
            "| loss | reference | B | kloss ms | ref ms | ratio | rounds | check | "
            "kloss MiB | ref MiB | compile s |",
            "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|",
        ]
        out += [_row(r, compile_col=True) for r in brecs]
        out.append("")
    # ---- memory scaling
    out += [
        "## Memory scaling",
        "",
        "Peak bytes a call adds, divided by B^2, at each B; `growth` is that quotient at the "
        "largest B over the one before it (x4 in B): about 1 for O(B^2) (1.2 for B^2 log B), "
        "4 for O(B^3). At B = 256 a fixed cost (allocator and runtime, ~1 MiB) inflates it.",
        "",
        "| backend | side | loss | " + " | ".join(f"B={b}" for b in sizes) + " | growth | order |",
        "|---|---|---|" + "---:|" * len(sizes) + "---:|---|",
    ]
    for backend in BACKENDS:
        for loss in LOSSES:
            cases = [r for r in recs if r["backend"] == backend and r["loss"] == loss]
            if not cases:
                continue
            rows = [("kloss", {r["batch"]: r.get("kloss_peak_bytes") for r in cases})]
            if backend == "jax":
                rows.append(
                    ("kloss, XLA temp", {r["batch"]: r.get("kloss_xla_temp_bytes") for r in cases})
                )
            refs = {}
            for r in cases:
                if r.get("native_source") in ("pml", "optax"):
                    refs.setdefault(r["native_source"], {})[r["batch"]] = r.get("native_peak_bytes")
            rows += list(refs.items())
            for side, by_b in rows:
                cells = [_per_b2(by_b.get(b), b) for b in sizes]
                growth = _scaling([(b, v) for b, v in by_b.items() if v])
                g = f"{growth:.2f}" if growth else "-"
                out.append(
                    f"| {backend} | {side} | {loss} | {' | '.join(cells)} | {g} | "
                    f"{_order(growth)} |"
                )
    if any(r["loss"] == "TripletSemiHard" and r.get("native_peak_bytes") for r in recs):
        out += [
            "",
            "pml's `TripletMarginMiner` lists every (anchor, positive, negative) triplet: "
            "below B^3 = 2^31 (B <= 1290) through a (B, B, B) uint8 mask, above it with a "
            "Python loop over anchors whose memory is the number of triplets, B (K-1) (B-K) "
            "for K rows per class (O(B^2) for these P x K batches, O(B^3) for few classes).",
        ]
    out.append("")
    skipped = [r for r in recs if r.get("skipped")]
    errors = [r for r in recs if "error" in r]
    mism = [r for r in recs if r.get("check") == "MISMATCH"]
    if skipped or errors or mism:
        out += ["## Skipped, errors, mismatches", ""]
        for r in skipped:
            out.append(
                f"- skipped: {r['backend']} {r['loss']} B={r['batch']} {r['native_name']}: "
                f"{r['skipped']}"
            )
        for r in mism:
            out.append(
                f"- MISMATCH: {r['backend']} {r['loss']} B={r['batch']} vs {r['native_name']}: "
                f"kloss {r['kloss_value']:.7g}, reference {r['native_value']:.7g}, gradient "
                f"error {r['grad_rel_err']:.2e}"
            )
        for r in errors:
            out.append(f"- error: {r['backend']} {r['loss']} B={r['batch']}: {r['error']}")
        out.append("")
    for b in merged.get("failed_backends", []):
        out.append(f"- **{b}**: FAILED, no results")
    return "\n".join(out).rstrip("\n") + "\n"


def _summary(recs, sizes):
    """kloss ms per call, every backend and size, one row per loss."""
    backends = [b for b in BACKENDS if any(r["backend"] == b for r in recs)]
    cols = [(b, n) for b in backends for n in sizes]
    out = [
        "## Summary: kloss ms per call (value and gradient)",
        "",
        "| loss | " + " | ".join(f"{b} {n}" for b, n in cols) + " |",
        "|---|" + "---:|" * len(cols),
    ]
    for loss in LOSSES:
        cells, seen = [], False
        for b, n in cols:
            rs = [r for r in recs if (r["backend"], r["batch"], r["loss"]) == (b, n, loss)]
            us = next((r["kloss_us"] for r in rs if r.get("kloss_us") is not None), None)
            seen |= bool(rs)
            cells.append(_ms(us))
        if seen:
            out.append(f"| {loss} | " + " | ".join(cells) + " |")
    return out + [""]


def _ratio_table(brecs, sizes):
    refs = []
    for r in brecs:
        key = (r["loss"], r.get("native_name"))
        if key[1] and key not in refs:
            refs.append(key)
    out = [
        "| loss | reference | check | " + " | ".join(f"B={n}" for n in sizes) + " |",
        "|---|---|---|" + "---:|" * len(sizes),
    ]
    for loss, name in refs:
        rs = {r["batch"]: r for r in brecs if (r["loss"], r.get("native_name")) == (loss, name)}
        checks = sorted({r["check"] for r in rs.values() if r.get("check") not in (None, "-")})
        cells = []
        for n in sizes:
            r = rs.get(n)
            if r is None:
                cells.append("-")
            elif r.get("skipped"):
                est = r.get("native_estimate_bytes")
                cells.append(f"skipped (est. {est / GIB:,.0f} GiB)" if est else "skipped")
            elif "error" in r:
                cells.append("error")
            else:
                cells.append(_ratio(r.get("ratio")))
        out.append(f"| {loss} | {name} | {', '.join(checks) or '-'} | " + " | ".join(cells) + " |")
    return out


def _target_lines(torch_recs):
    lines = []
    for loss in LOSSES:
        rs = [
            r
            for r in torch_recs
            if r["loss"] == loss and r["batch"] == TARGET_SIZE and r.get("native_source") == "pml"
        ]
        if not rs:
            continue
        r = rs[0]
        if r.get("skipped"):
            lines.append(f"- {loss}: pml skipped at B={TARGET_SIZE} ({r['skipped']}): no ratio")
        elif "error" in r or r.get("ratio") is None:
            lines.append(f"- {loss}: no ratio ({r.get('error', 'not timed')})")
        else:
            met = "met" if r["ratio"] <= TARGET_RATIO else "**MISSED**"
            note = " (different definition)" if r.get("check") == "differs by definition" else ""
            lines.append(f"- {loss}: {r['ratio']:.2f}{note}: {met}")
    return lines


def _row(r, compile_col=False):
    ref = r.get("native_name") or "-"
    lead = f"| {r['loss']} | {ref} | {r['batch']} |"
    if "error" in r:
        return f"{lead} error: {r['error']} |" + " |" * (7 + compile_col)
    ratio = _ratio(r.get("ratio"))
    native = "skipped" if r.get("skipped") else _ms(r.get("native_us"))
    cells = [
        _ms(r.get("kloss_us")),
        native,
        ratio,
        str(r.get("rounds", "-")),
        r.get("check", "-") if not r.get("skipped") else r["skipped"],
        _mib(r.get("kloss_peak_bytes")),
        _mib(r.get("native_peak_bytes")),
    ]
    if compile_col:
        c = r.get("kloss_compile_s")
        cells.append(f"{c:.1f}" if c is not None else "-")
    return f"{lead} {' | '.join(cells)} |"


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
