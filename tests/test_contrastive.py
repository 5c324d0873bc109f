"""Contrastive losses: oracles from trusted libraries (optax, pytorch-metric-learning,
torch.nn.functional), the exact relations where conventions differ, closed-form values at
the edges (identical embeddings, zero vectors, tiny temperatures, B = 1 and 2), unknown
batch sizes under jit, and every error message."""

import keras
import numpy as np
import pytest

import kloss
from kloss.testing.references import contrastive as ref
from kloss.testing.registry_contrastive import supcon_labels
from tests.helpers import TOL, backend, to_numpy, value_and_grad

F32 = TOL["float32"]
VIEW_LOSSES = [kloss.NTXent, kloss.InfoNCE, kloss.SigLIP]
VIEW_FUNCTIONS = [kloss.ntxent, kloss.info_nce, kloss.siglip]


def _torch():
    torch = pytest.importorskip("torch")
    return torch, torch.nn.functional


def _pml():
    pytest.importorskip("torch")
    return pytest.importorskip("pytorch_metric_learning.losses")


def _views(B=6, D=8, seed=0, noise=0.8):
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(B, D))
    v = u + rng.normal(scale=noise, size=(B, D))
    return np.stack([u, v], axis=1).astype(np.float32)


def _zeros(B):
    return np.zeros((B,), np.float32)


def _softplus(x):
    return float(np.logaddexp(0.0, x))


def _torch_views(torch, F, y_pred):
    """(u, v) unit vectors in torch, with the leaf tensor for gradients."""
    leaf = torch.tensor(y_pred, dtype=torch.float64, requires_grad=True)
    return leaf, F.normalize(leaf[:, 0], dim=-1), F.normalize(leaf[:, 1], dim=-1)


def _grad(loss, y_true, y_pred):
    return value_and_grad(lambda p: loss(y_true, p), y_pred)


# --------------------------------------------------------------------------- NT-Xent


@pytest.mark.parametrize("temperature", [0.07, 0.1, 0.5])
def test_ntxent_matches_optax_and_pml(temperature):
    optax = pytest.importorskip("optax")
    jnp = pytest.importorskip("jax.numpy")
    torch, _ = _torch()
    losses = _pml()
    y_pred = _views(seed=1)
    B = y_pred.shape[0]
    stacked = np.concatenate([y_pred[:, 0], y_pred[:, 1]], axis=0)  # (2B, D)
    labels = np.concatenate([np.arange(B), np.arange(B)])  # pairs the two views
    expected_optax = float(
        optax.losses.ntxent(jnp.asarray(stacked), jnp.asarray(labels), temperature)
    )
    pml = losses.NTXentLoss(temperature=temperature)
    expected_pml = pml(torch.tensor(stacked, dtype=torch.float64), torch.tensor(labels)).item()
    got = to_numpy(kloss.NTXent(temperature=temperature)(_zeros(B), y_pred))
    np.testing.assert_allclose(got, expected_optax, **F32)
    np.testing.assert_allclose(got, expected_pml, **F32)
    rows = to_numpy(kloss.ntxent(_zeros(B), y_pred, temperature=temperature))
    assert rows.shape == (B,)
    np.testing.assert_allclose(rows.mean(), expected_pml, **F32)


def test_ntxent_gradient_matches_pml(autodiff):
    torch, _ = _torch()
    losses = _pml()
    y_pred = _views(B=5, D=7, seed=2)
    B = y_pred.shape[0]
    stacked = torch.tensor(
        np.concatenate([y_pred[:, 0], y_pred[:, 1]]), dtype=torch.float64, requires_grad=True
    )
    labels = torch.tensor(np.concatenate([np.arange(B), np.arange(B)]))
    value = losses.NTXentLoss(temperature=0.2)(stacked, labels)
    (g,) = torch.autograd.grad(value, stacked)
    expected = np.stack([g[:B].numpy(), g[B:].numpy()], axis=1)
    v, got = _grad(kloss.NTXent(temperature=0.2), _zeros(B), y_pred)
    np.testing.assert_allclose(v, value.item(), **F32)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_ntxent_row_is_the_mean_of_its_two_views_and_ignores_y_true():
    """Swapping the two views of every sample leaves every row unchanged (each row averages
    both directions); y_true does not matter."""
    y_pred = _views(B=4, seed=3)
    a = to_numpy(kloss.ntxent(_zeros(4), y_pred))
    b = to_numpy(kloss.ntxent(np.arange(4.0, dtype=np.float32), y_pred[:, ::-1]))
    np.testing.assert_allclose(a, b, **F32)
    np.testing.assert_allclose(a, ref.ntxent(None, y_pred), **F32)


# --------------------------------------------------------------------------- InfoNCE


def _clip_logits(torch, F, y_pred, temperature):
    leaf, u, v = _torch_views(torch, F, y_pred)
    return leaf, u @ v.T / temperature


@pytest.mark.parametrize("symmetric", [False, True])
@pytest.mark.parametrize("temperature", [0.07, 0.1, 1.0])
def test_info_nce_matches_torch_cross_entropy(temperature, symmetric):
    torch, F = _torch()
    y_pred = _views(B=7, D=5, seed=4)
    B = y_pred.shape[0]
    leaf, logits = _clip_logits(torch, F, y_pred, temperature)
    target = torch.arange(B)
    rows = F.cross_entropy(logits, target, reduction="none")
    if symmetric:
        rows = (rows + F.cross_entropy(logits.T, target, reduction="none")) / 2
    loss = kloss.InfoNCE(temperature=temperature, symmetric=symmetric, reduction="none")
    np.testing.assert_allclose(to_numpy(loss(_zeros(B), y_pred)), rows.detach().numpy(), **F32)
    fn = kloss.info_nce(_zeros(B), y_pred, temperature=temperature, symmetric=symmetric)
    np.testing.assert_allclose(to_numpy(fn), rows.detach().numpy(), **F32)
    # CLIP's (L_u + L_v) / 2 with torch's mean cross-entropies.
    mean = F.cross_entropy(logits, target)
    if symmetric:
        mean = (mean + F.cross_entropy(logits.T, target)) / 2
    got = kloss.InfoNCE(temperature=temperature, symmetric=symmetric)(_zeros(B), y_pred)
    np.testing.assert_allclose(to_numpy(got), mean.item(), **F32)


def test_info_nce_matches_optax():
    optax = pytest.importorskip("optax")
    jnp = pytest.importorskip("jax.numpy")
    y_pred = _views(B=6, D=4, seed=5)
    u, v = (y_pred[:, k] / np.linalg.norm(y_pred[:, k], axis=-1, keepdims=True) for k in (0, 1))
    logits = jnp.asarray(u @ v.T / 0.1)
    labels = jnp.arange(6)
    row = np.asarray(optax.losses.softmax_cross_entropy_with_integer_labels(logits, labels))
    col = np.asarray(optax.losses.softmax_cross_entropy_with_integer_labels(logits.T, labels))
    np.testing.assert_allclose(to_numpy(kloss.info_nce(_zeros(6), y_pred)), row, **F32)
    got = kloss.info_nce(_zeros(6), y_pred, symmetric=True)
    np.testing.assert_allclose(to_numpy(got), (row + col) / 2, **F32)


@pytest.mark.parametrize("symmetric", [False, True])
def test_info_nce_gradient_matches_torch(symmetric, autodiff):
    torch, F = _torch()
    y_pred = _views(B=5, D=6, seed=6)
    leaf, logits = _clip_logits(torch, F, y_pred, 0.1)
    target = torch.arange(5)
    value = F.cross_entropy(logits, target)
    if symmetric:
        value = (value + F.cross_entropy(logits.T, target)) / 2
    (expected,) = torch.autograd.grad(value, leaf)
    v, g = _grad(kloss.InfoNCE(symmetric=symmetric), _zeros(5), y_pred)
    np.testing.assert_allclose(v, value.item(), **F32)
    np.testing.assert_allclose(g, expected.numpy(), rtol=1e-5, atol=1e-6)


def test_info_nce_symmetric_is_the_mean_of_both_directions():
    """The column direction is the row direction with the two modalities swapped."""
    y_pred = _views(B=5, seed=7)
    forward = to_numpy(kloss.info_nce(_zeros(5), y_pred))
    backward = to_numpy(kloss.info_nce(_zeros(5), y_pred[:, ::-1]))
    both = to_numpy(kloss.info_nce(_zeros(5), y_pred, symmetric=True))
    np.testing.assert_allclose(both, (forward + backward) / 2, **F32)


# --------------------------------------------------------------------------- SupCon


def _labelled(B=8, D=6, seed=8, labels=None):
    rng = np.random.default_rng(seed)
    labels = supcon_labels(rng, B) if labels is None else np.asarray(labels, np.int32)
    centers = rng.normal(size=(int(labels.max()) + 1, D))
    z = centers[labels] + rng.normal(scale=0.9, size=(len(labels), D))
    return labels, z.astype(np.float32)


LABEL_SETS = {
    "with_singletons": [0, 1, 0, 2, 1, 0, 3, 4],
    "two_views_per_sample": [0, 1, 2, 3, 0, 1, 2, 3],
    "uneven_classes": [0, 0, 0, 0, 0, 1, 1, 2],
    "pairs_and_triples": [5, 5, 9, 9, 9, 2, 2, 7],
}


@pytest.mark.parametrize("temperature", [0.07, 0.1, 0.5])
@pytest.mark.parametrize("labels", list(LABEL_SETS), ids=list(LABEL_SETS))
def test_supervised_contrastive_matches_pml(labels, temperature):
    torch, _ = _torch()
    losses = _pml()
    y_true, z = _labelled(labels=LABEL_SETS[labels])
    pml = losses.SupConLoss(temperature=temperature)
    expected = pml(torch.tensor(z, dtype=torch.float64), torch.tensor(y_true)).item()
    got = kloss.SupervisedContrastive(temperature=temperature)(y_true, z)
    np.testing.assert_allclose(to_numpy(got), expected, **F32)
    rows = to_numpy(kloss.supervised_contrastive(y_true, z, temperature=temperature))
    np.testing.assert_allclose(rows.mean(), expected, **F32)


def test_supervised_contrastive_gradient_matches_pml(autodiff):
    torch, _ = _torch()
    losses = _pml()
    y_true, z = _labelled(labels=LABEL_SETS["with_singletons"], seed=9)
    leaf = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    value = losses.SupConLoss(temperature=0.2)(leaf, torch.tensor(y_true))
    (expected,) = torch.autograd.grad(value, leaf)
    v, g = _grad(kloss.SupervisedContrastive(temperature=0.2), y_true, z)
    np.testing.assert_allclose(v, value.item(), **F32)
    np.testing.assert_allclose(g, expected.numpy(), rtol=1e-5, atol=1e-6)


def test_supervised_contrastive_no_positive_pair_is_zero_like_pml():
    torch, _ = _torch()
    losses = _pml()
    y_true, z = _labelled(labels=np.arange(6))
    expected = losses.SupConLoss()(torch.tensor(z), torch.tensor(y_true)).item()
    assert expected == 0.0
    rows = to_numpy(kloss.supervised_contrastive(y_true, z))
    np.testing.assert_array_equal(rows, np.zeros(6))


def test_supervised_contrastive_single_class_differs_from_pml():
    """pml returns 0 when the batch has no negative pair; kloss keeps the paper's value,
    the mean of L_i over the anchors (every L_i > 0 for B >= 3)."""
    torch, _ = _torch()
    losses = _pml()
    y_true, z = _labelled(labels=[3, 3, 3, 3, 3])
    assert losses.SupConLoss()(torch.tensor(z), torch.tensor(y_true)).item() == 0.0
    anchors, has = ref.supervised_contrastive_anchors(y_true, z)
    assert has.all() and (anchors > 0).all()
    got = to_numpy(kloss.SupervisedContrastive()(y_true, z))
    np.testing.assert_allclose(got, anchors.mean(), **F32)


def _supcontrast_torch(torch, F, z, labels, temperature):
    """HobbitLong/SupContrast's SupConLoss (single view, base_temperature = temperature),
    written out in torch: the mean over all B anchors, 0 for anchors without a positive."""
    f = F.normalize(torch.tensor(z, dtype=torch.float64), dim=1)
    labels = torch.tensor(labels).view(-1, 1)
    mask = torch.eq(labels, labels.T).double()
    logits = f @ f.T / temperature
    logits = logits - logits.max(dim=1, keepdim=True)[0].detach()
    logits_mask = 1.0 - torch.eye(len(z), dtype=torch.float64)
    mask = mask * logits_mask
    exp_logits = torch.exp(logits) * logits_mask
    log_prob = logits - torch.log(exp_logits.sum(1, keepdim=True))
    pairs = mask.sum(1)
    pairs = torch.where(pairs < 1e-6, torch.ones_like(pairs), pairs)
    return (-(mask * log_prob).sum(1) / pairs).mean().item()


def test_supervised_contrastive_relation_to_supcontrast_reference():
    """The reference implementation averages over all B anchors: kloss * |A| / B."""
    torch, F = _torch()
    y_true, z = _labelled(labels=LABEL_SETS["with_singletons"], seed=10)
    n_anchors = 5  # labels 2, 3 and 4 are singletons: 3 + 2 anchors have a positive
    expected = _supcontrast_torch(torch, F, z, y_true, 0.1)
    got = float(to_numpy(kloss.SupervisedContrastive()(y_true, z)))
    np.testing.assert_allclose(got * n_anchors / len(y_true), expected, **F32)


def test_supervised_contrastive_keeps_integer_labels_in_bfloat16():
    """Labels 256 and 257 are different classes (bfloat16 would round both to 256)."""
    y_true = np.array([256, 257, 256, 257, 258], np.int32)
    _, z = _labelled(labels=[0, 1, 0, 1, 2], seed=11)
    expected = ref.supervised_contrastive(y_true, z)
    # reduction="none": TensorFlow cannot convert a 0-d bfloat16 tensor to NumPy.
    got = kloss.SupervisedContrastive(dtype="bfloat16", reduction="none")(y_true, z)
    assert keras.backend.standardize_dtype(got.dtype) == "bfloat16"
    np.testing.assert_allclose(to_numpy(got), expected, **TOL["bfloat16"])
    merged = ref.supervised_contrastive(np.array([256, 256, 256, 256, 258]), z)
    assert np.abs(merged - expected).max() > 0.1  # the test can tell the two apart


def test_supervised_contrastive_accepts_column_labels():
    y_true, z = _labelled()
    a = to_numpy(kloss.supervised_contrastive(y_true[:, None], z))
    np.testing.assert_allclose(a, ref.supervised_contrastive(y_true, z), **F32)


# --------------------------------------------------------------------------- SigLIP


@pytest.mark.parametrize("temperature,bias", [(10.0, -10.0), (1.0, 0.0), (3.5, -1.5)])
def test_siglip_matches_torch_formulas(temperature, bias):
    torch, F = _torch()
    y_pred = _views(B=6, D=5, seed=12)
    B = y_pred.shape[0]
    _, u, v = _torch_views(torch, F, y_pred)
    logits = temperature * u @ v.T + bias
    z = 2 * torch.eye(B, dtype=torch.float64) - 1
    rows = -F.logsigmoid(z * logits).sum(dim=1)
    bce = F.binary_cross_entropy_with_logits(
        logits, torch.eye(B, dtype=torch.float64), reduction="sum"
    )
    loss = kloss.SigLIP(temperature=temperature, bias=bias, reduction="none")
    np.testing.assert_allclose(to_numpy(loss(_zeros(B), y_pred)), rows.detach().numpy(), **F32)
    mean = kloss.SigLIP(temperature=temperature, bias=bias)(_zeros(B), y_pred)
    np.testing.assert_allclose(to_numpy(mean), bce.item() / B, **F32)
    fn = kloss.siglip(_zeros(B), y_pred, temperature=temperature, bias=bias)
    np.testing.assert_allclose(to_numpy(fn), ref.siglip(None, y_pred, temperature, bias), **F32)


def test_siglip_gradient_matches_torch(autodiff):
    torch, F = _torch()
    y_pred = _views(B=5, D=4, seed=13)
    leaf, u, v = _torch_views(torch, F, y_pred)
    logits = 10.0 * u @ v.T - 10.0
    z = 2 * torch.eye(5, dtype=torch.float64) - 1
    value = -F.logsigmoid(z * logits).sum() / 5
    (expected,) = torch.autograd.grad(value, leaf)
    v, g = _grad(kloss.SigLIP(), _zeros(5), y_pred)
    np.testing.assert_allclose(v, value.item(), **F32)
    np.testing.assert_allclose(g, expected.numpy(), rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("B", [1, 2, 5])
@pytest.mark.parametrize("case", ["identical", "zero_vectors"])
@pytest.mark.parametrize("temperature", [0.01, 0.1])
def test_view_losses_closed_forms(case, B, temperature):
    """All cosines equal: NT-Xent is log(2B - 1), InfoNCE log(B), SigLIP's row
    softplus(-(t c + b)) + (B - 1) softplus(t c + b), for any temperature."""
    vec = np.array([0.3, -1.2, 2.0], np.float32)
    y_pred = np.zeros((B, 2, 3), np.float32) + (vec if case == "identical" else 0.0)
    cos = 1.0 if case == "identical" else 0.0
    siglip_t = 1.0 / temperature  # a scale for SigLIP, up to 100
    checks = [
        (kloss.NTXent(temperature=temperature), np.log(2 * B - 1)),
        (kloss.InfoNCE(temperature=temperature), np.log(B)),
        (kloss.InfoNCE(temperature=temperature, symmetric=True), np.log(B)),
        (
            kloss.SigLIP(temperature=siglip_t),
            _softplus(-(siglip_t * cos - 10.0)) + (B - 1) * _softplus(siglip_t * cos - 10.0),
        ),
    ]
    for loss, expected in checks:
        got = to_numpy(loss(_zeros(B), y_pred))
        # Logits of up to 1/0.01 = 100 carry float32 rounding of 100 * 2^-24 ~ 6e-6.
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=2e-5, err_msg=loss.name)


@pytest.mark.parametrize("temperature", [0.01, 0.1])
def test_supervised_contrastive_closed_forms(temperature):
    """All cosines equal and two classes of two: every anchor has one positive among three
    equal terms, L_i = log(3); B = 1 and a batch of singletons give 0."""
    vec = np.array([[0.3, -1.2, 2.0]], np.float32)
    pairs = np.array([0, 0, 1, 1], np.int32)
    loss = kloss.SupervisedContrastive(temperature=temperature)
    for z in (np.repeat(vec, 4, axis=0), np.zeros((4, 3), np.float32)):
        np.testing.assert_allclose(to_numpy(loss(pairs, z)), np.log(3.0), rtol=1e-5, atol=2e-5)
    assert float(to_numpy(loss(pairs[:1], vec))) == 0.0
    assert float(to_numpy(loss(np.arange(4, dtype=np.int32), np.repeat(vec, 4, 0)))) == 0.0


def test_single_sample_values():
    """B = 1: no negatives. NT-Xent, InfoNCE and SupCon give 0; SigLIP its one pair."""
    y_pred = _views(B=1, D=4, seed=14)
    for loss in (kloss.NTXent(), kloss.InfoNCE(), kloss.InfoNCE(symmetric=True)):
        np.testing.assert_allclose(to_numpy(loss(_zeros(1), y_pred)), 0.0, atol=1e-6)
    u, v = (y_pred[0, k] / np.linalg.norm(y_pred[0, k]) for k in (0, 1))
    expected = _softplus(-(10.0 * float(u @ v) - 10.0))
    np.testing.assert_allclose(to_numpy(kloss.SigLIP()(_zeros(1), y_pred)), expected, **F32)


def _edge_inputs(kind):
    rng = np.random.default_rng(15)
    u = rng.normal(size=(4, 6)).astype(np.float32)
    if kind == "aligned":
        return np.stack([u, u], axis=1)
    if kind == "identical":
        return np.tile(u[:1, None], (4, 2, 1))
    if kind == "zero_vectors":
        return np.zeros((4, 2, 6), np.float32)
    if kind == "one_zero_vector":
        y = np.stack([u, u[::-1]], axis=1)
        y[2, 0] = 0.0
        return y
    if kind == "B1":
        return np.stack([u[:1], u[1:2]], axis=1)
    return np.stack([u[:2], u[2:]], axis=1)  # B2


EDGE_KINDS = ["aligned", "identical", "zero_vectors", "one_zero_vector", "B1", "B2"]
VIEW_CASES = [
    ("NTXent", lambda t: kloss.NTXent(temperature=t), ref.ntxent, {}),
    ("InfoNCE", lambda t: kloss.InfoNCE(temperature=t), ref.info_nce, {}),
    (
        "InfoNCE_sym",
        lambda t: kloss.InfoNCE(temperature=t, symmetric=True),
        ref.info_nce,
        {"symmetric": True},
    ),
    (
        "SigLIP",
        lambda t: kloss.SigLIP(temperature=1.0 / t, bias=-5.0),
        lambda yt, yp, temperature, **o: ref.siglip(yt, yp, 1.0 / temperature, -5.0),
        {},
    ),
]


@pytest.mark.parametrize("kind", EDGE_KINDS)
@pytest.mark.parametrize("temperature", [0.01, 0.1])
@pytest.mark.parametrize("case", VIEW_CASES, ids=[c[0] for c in VIEW_CASES])
def test_view_losses_finite_at_edges(case, temperature, kind, autodiff):
    """Finite values and gradients (log-sum-exp; guarded normalization), matching the
    float64 reference."""
    _, make, reference, option = case
    y_pred = _edge_inputs(kind)
    B = y_pred.shape[0]
    v, g = _grad(make(temperature), _zeros(B), y_pred)
    assert np.isfinite(v) and np.all(np.isfinite(g)), (kind, v, g)
    expected = reference(None, y_pred, temperature=temperature, **option).mean()
    # Logits of up to 1/0.01 = 100 carry float32 rounding of 100 * 2^-24 ~ 6e-6.
    np.testing.assert_allclose(v, expected, rtol=1e-5, atol=2e-5)
    if kind in ("identical", "zero_vectors"):
        # Every cosine is stationary there (identical) or the loss is flat (zero vectors
        # point nowhere); the gradient is 0 up to rounding of the logits.
        np.testing.assert_allclose(g, 0.0, atol=1e-3)


@pytest.mark.parametrize(
    "labels", [[0, 0, 1, 1], [0, 1, 2, 3], [0, 0, 0, 0], [0, 0, 1, 2], [7], [1, 1]]
)
@pytest.mark.parametrize("kind", ["aligned", "identical", "zero_vectors", "one_zero_vector"])
@pytest.mark.parametrize("temperature", [0.01, 0.1])
def test_supervised_contrastive_finite_at_edges(kind, labels, temperature, autodiff):
    labels = np.array(labels, np.int32)
    rng = np.random.default_rng(16)
    B = len(labels)
    z = {
        "aligned": rng.normal(size=(int(labels.max()) + 1, 5))[labels],
        "identical": np.tile(rng.normal(size=(1, 5)), (B, 1)),
        "zero_vectors": np.zeros((B, 5)),
        "one_zero_vector": np.concatenate([np.zeros((1, 5)), rng.normal(size=(B - 1, 5))]),
    }[kind].astype(np.float32)
    v, g = _grad(kloss.SupervisedContrastive(temperature=temperature), labels, z)
    assert np.isfinite(v) and np.all(np.isfinite(g)), (kind, v, g)
    expected = ref.supervised_contrastive(labels, z, temperature).mean()
    np.testing.assert_allclose(v, expected, rtol=1e-5, atol=2e-5)
    if not ref.supervised_contrastive_anchors(labels, z, temperature)[1].any():
        np.testing.assert_array_equal(g, 0.0)  # no positive pair: loss 0, gradient 0


ALL_LOSSES = [
    (kloss.NTXent(), False),
    (kloss.InfoNCE(symmetric=True), False),
    (kloss.SigLIP(), False),
    (kloss.SupervisedContrastive(), True),
]


@pytest.mark.parametrize("scale", [1e-20, 1e-6, 1e6, 1e19])
@pytest.mark.parametrize("case", ALL_LOSSES, ids=[type(c[0]).__name__ for c in ALL_LOSSES])
def test_scale_invariance_at_tiny_and_huge_norms(case, scale, autodiff):
    """Cosines ignore the norm: f(s x) = f(x), so grad f(s x) = grad f(x) / s, also where
    the squared norm of s x under- or overflows float32."""
    loss, labelled = case
    if labelled:
        y_true, y_pred = _labelled(B=6, D=5, seed=19)
    else:
        y_pred = _views(B=4, D=5, seed=19)
        y_true = _zeros(4)
    v1, g1 = _grad(loss, y_true, y_pred)
    vs, gs = _grad(loss, y_true, (y_pred * np.float32(scale)).astype(np.float32))
    assert np.isfinite(vs) and np.all(np.isfinite(gs))
    np.testing.assert_allclose(vs, v1, **F32)
    # Relative to the gradient's largest entry: entries that cancel carry float32 rounding.
    np.testing.assert_allclose(gs * scale, g1, rtol=1e-5, atol=1e-5 * np.abs(g1).max())


# --------------------------------------------------------------------------- jit, unknown B


def _all_cases():
    y_pred = _views(B=6, D=4, seed=17)
    y_true, z = _labelled(B=6, D=4, seed=18)
    return [
        (kloss.NTXent(), _zeros(6), y_pred),
        (kloss.InfoNCE(symmetric=True), _zeros(6), y_pred),
        (kloss.SigLIP(), _zeros(6), y_pred),
        (kloss.SupervisedContrastive(), y_true, z),
    ]


def test_unknown_batch_size_under_tf_function():
    if backend() != "tensorflow":
        pytest.skip("tf.function with an unknown batch size: tensorflow backend")
    import tensorflow as tf

    for loss, y_true, y_pred in _all_cases():
        spec_true = tf.TensorSpec((None,) + y_true.shape[1:], y_true.dtype)
        spec_pred = tf.TensorSpec((None,) + y_pred.shape[1:], tf.float32)
        fn = tf.function(lambda t, p, loss=loss: loss(t, p), input_signature=[spec_true, spec_pred])
        for B in (6, 3):  # one trace, two batch sizes
            expected = to_numpy(loss(y_true[:B], y_pred[:B]))
            np.testing.assert_allclose(to_numpy(fn(y_true[:B], y_pred[:B])), expected, **F32)


def test_under_jax_jit():
    if backend() != "jax":
        pytest.skip("jax.jit: jax backend")
    import jax

    for loss, y_true, y_pred in _all_cases():
        expected = to_numpy(loss(y_true, y_pred))
        got = jax.jit(lambda t, p, loss=loss: loss(t, p))(y_true, y_pred)
        np.testing.assert_allclose(to_numpy(got), expected, **F32)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "make,exc,fragment",
    [
        (lambda: kloss.NTXent(temperature=0.0), ValueError, "NTXent: `temperature` must be > 0"),
        (lambda: kloss.NTXent(temperature=-0.1), ValueError, "Received: temperature=-0.1"),
        (lambda: kloss.NTXent(temperature=True), TypeError, "NTXent: `temperature` must be a"),
        (lambda: kloss.InfoNCE(temperature=0), ValueError, "InfoNCE: `temperature` must be > 0"),
        (lambda: kloss.InfoNCE(symmetric="yes"), TypeError, "InfoNCE: `symmetric` must be True"),
        (
            lambda: kloss.SupervisedContrastive(temperature=-1),
            ValueError,
            "SupervisedContrastive: `temperature` must be > 0. Received: temperature=-1.0",
        ),
        (lambda: kloss.SigLIP(temperature=0.0), ValueError, "SigLIP: `temperature` must be > 0"),
        (
            lambda: kloss.SigLIP(bias=float("nan")),
            ValueError,
            "SigLIP: `bias` must be finite. Received: bias=nan",
        ),
        (lambda: kloss.SigLIP(bias=float("-inf")), ValueError, "SigLIP: `bias` must be finite"),
        (lambda: kloss.SigLIP(bias="1"), TypeError, "SigLIP: `bias` must be a number"),
        (
            lambda: kloss.SigLIP(temperature=float("inf")),
            ValueError,
            "SigLIP: `temperature` must be finite",
        ),
    ],
)
def test_argument_errors_at_construction(make, exc, fragment):
    with pytest.raises(exc) as err:
        make()
    assert fragment in str(err.value)


def test_function_argument_errors_name_the_function():
    y_pred = _views(B=2)
    y_true, z = _labelled(B=4)
    with pytest.raises(ValueError, match=r"ntxent: `temperature` must be > 0"):
        kloss.ntxent(_zeros(2), y_pred, temperature=0.0)
    with pytest.raises(ValueError, match=r"info_nce: `temperature` must be > 0"):
        kloss.info_nce(_zeros(2), y_pred, temperature=-2.0)
    with pytest.raises(TypeError, match=r"info_nce: `symmetric` must be True or False"):
        kloss.info_nce(_zeros(2), y_pred, symmetric=1)
    with pytest.raises(ValueError, match=r"supervised_contrastive: `temperature` must be > 0"):
        kloss.supervised_contrastive(y_true, z, temperature=0.0)
    with pytest.raises(ValueError, match=r"siglip: `bias` must be finite"):
        kloss.siglip(_zeros(2), y_pred, bias=float("inf"))


@pytest.mark.parametrize("shape", [(4, 5), (4, 3, 5), (4, 2), (4, 2, 5, 1), (5,)])
@pytest.mark.parametrize("index", range(3), ids=["NTXent", "InfoNCE", "SigLIP"])
def test_view_losses_need_two_stacked_views(index, shape):
    cls, fn = VIEW_LOSSES[index], VIEW_FUNCTIONS[index]
    y_pred = np.ones(shape, np.float32)
    with pytest.raises(ValueError) as err:
        cls()(_zeros(shape[0]), y_pred)
    assert f"{cls.__name__}: `y_pred` must have shape (B, 2, D)" in str(err.value)
    assert f"Received: y_pred.shape={shape}" in str(err.value)
    with pytest.raises(ValueError, match=rf"^{fn.__name__}: `y_pred` must have shape \(B, 2, D\)"):
        fn(_zeros(shape[0]), y_pred)


def test_supervised_contrastive_shape_and_label_errors():
    y_true, z = _labelled(B=4, D=5)
    loss = kloss.SupervisedContrastive()
    with pytest.raises(ValueError) as err:
        loss(y_true, np.ones((4, 2, 5), np.float32))
    assert "SupervisedContrastive: `y_pred` must be 2-D embeddings (B, D)" in str(err.value)
    assert "y_true.shape=(4,), y_pred.shape=(4, 2, 5)" in str(err.value)
    with pytest.raises(TypeError) as err:
        loss(y_true.astype(np.float32), z)
    assert "SupervisedContrastive: `y_true` must hold integer class labels" in str(err.value)
    assert "y_true.dtype=float32" in str(err.value)
    with pytest.raises(TypeError, match="supervised_contrastive: `y_true` must hold integer"):
        kloss.supervised_contrastive(y_true.astype(np.float64), z)
    with pytest.raises(ValueError) as err:
        loss(np.zeros((4, 2), np.int32), z)
    assert "`y_true` must be 1-D integer labels, one per row of `y_pred`" in str(err.value)
    assert "y_true.shape=(4, 2), y_pred.shape=(4, 5)" in str(err.value)
    with pytest.raises(ValueError, match=r"y_true.shape=\(3,\), y_pred.shape=\(4, 5\)"):
        loss(y_true[:3], z)
    with pytest.raises(ValueError, match=r"SupervisedContrastive: `y_pred` must be 2-D"):
        loss(y_true, np.ones((4,), np.float32))
