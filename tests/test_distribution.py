"""Distribution losses: oracles from scipy and POT (values and, with POT's torch backend,
gradients), the exact relations to Hou et al.'s EMD, limits, zero-mass bins, and every
error message."""

import json
import warnings

import keras
import numpy as np
import pytest

import kloss
from kloss.testing.references import distribution as ref
from tests.helpers import TOL, to_numpy, value_and_grad

F32 = TOL["float32"]


def _hist(rng, shape, zeros=False):
    p = rng.gamma(1.0, size=shape) + 0.05
    if zeros:
        p[..., ::3] = 0.0  # empty bins
    return p / p.sum(axis=-1, keepdims=True)


def _ot():
    return pytest.importorskip("ot")


# --------------------------------------------------------------------------- earth mover's


@pytest.mark.parametrize("C", [2, 5, 9])
def test_earth_movers_power_1_is_scipy_wasserstein(C):
    from scipy.stats import wasserstein_distance

    rng = np.random.default_rng(C)
    t = _hist(rng, (6, C), zeros=True)
    p = _hist(rng, (6, C))
    t[0] = np.eye(C)[C - 1]  # one-hot targets too
    expected = [wasserstein_distance(np.arange(C), np.arange(C), p[i], t[i]) for i in range(6)]
    got = to_numpy(kloss.earth_movers(t.astype(np.float32), p.astype(np.float32), power=1))
    np.testing.assert_allclose(got, expected, **F32)
    got = to_numpy(kloss.EarthMovers(power=1, reduction="none")(t, p))
    np.testing.assert_allclose(got, expected, **F32)


@pytest.mark.parametrize("r", [1.0, 1.5, 2.0, 3.0])
def test_earth_movers_relation_to_hou_et_al(r):
    """kloss = C * EMD_r ** r (Hou et al. 2016, eq. 3); their squared EMD is kloss / C."""
    rng = np.random.default_rng(0)
    C = 7
    t, p = _hist(rng, (5, C)), _hist(rng, (5, C))
    got = to_numpy(kloss.earth_movers(t.astype(np.float32), p.astype(np.float32), power=r))
    hou = ref.hou_emd(t, p, r)
    np.testing.assert_allclose(got, C * hou**r, **F32)
    if r == 2.0:
        np.testing.assert_allclose(got / C, hou**2, **F32)  # the "squared EMD" loss
        # The default power is 2.
        np.testing.assert_allclose(to_numpy(kloss.earth_movers(t, p)), got, **F32)


def test_earth_movers_hand_values():
    t = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], np.float32)
    p = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]], np.float32)
    # CDF differences: (0.5, 1, 0), (-1, -1, 0), (0, 0, 0).
    np.testing.assert_allclose(to_numpy(kloss.earth_movers(t, p, power=1)), [1.5, 2, 0], **F32)
    np.testing.assert_allclose(to_numpy(kloss.earth_movers(t, p)), [1.25, 2, 0], **F32)
    # Mass one class off costs less than mass two classes off (unlike cross-entropy).
    near = to_numpy(kloss.earth_movers(t[:1], np.array([[0.0, 1.0, 0.0]], np.float32)))
    far = to_numpy(kloss.earth_movers(t[:1], np.array([[1.0, 0.0, 0.0]], np.float32)))
    assert near[0] == pytest.approx(1.0) and far[0] == pytest.approx(2.0)


def test_earth_movers_from_logits_is_softmax_then_probabilities():
    rng = np.random.default_rng(1)
    t = _hist(rng, (4, 6)).astype(np.float32)
    x = rng.normal(scale=3.0, size=(4, 6)).astype(np.float32)
    softmax = np.exp(x - x.max(-1, keepdims=True))
    softmax /= softmax.sum(-1, keepdims=True)
    got = to_numpy(kloss.earth_movers(t, x, power=1.5, from_logits=True))
    np.testing.assert_allclose(got, ref.earth_movers(t, softmax, power=1.5), **F32)


def test_earth_movers_axis():
    rng = np.random.default_rng(2)
    t, p = _hist(rng, (3, 4, 6)), _hist(rng, (3, 4, 6))
    t_cf = np.moveaxis(t, -1, 1).astype(np.float32)  # (B, C, T)
    p_cf = np.moveaxis(p, -1, 1).astype(np.float32)
    expected = ref.earth_movers(t, p, power=1.0)  # (3, 4)
    np.testing.assert_allclose(
        to_numpy(kloss.earth_movers(t_cf, p_cf, power=1, axis=1)), expected, **F32
    )
    loss = kloss.EarthMovers(power=1, axis=1, reduction="none")
    np.testing.assert_allclose(to_numpy(loss(t_cf, p_cf)), expected, **F32)
    # One weight per loss entry (B, T) fits the loss's shape with axis=1.
    w = rng.uniform(size=(3, 4)).astype(np.float32)
    got = to_numpy(kloss.EarthMovers(power=1, axis=1, reduction="sum")(t_cf, p_cf, w))
    np.testing.assert_allclose(got, (expected * w).sum(), **F32)


@pytest.mark.parametrize("power", [1.0, 1.5, 2.0, 3.0])
def test_earth_movers_gradient_at_cdf_ties(power, autodiff):
    """d/dp_j sum_{k<C-1} |D_k|^r = sum_{j<=k<C-1} r |D_k|^(r-1) sign(D_k), sign(0) = 0:
    the gradient is exactly 0 at equal CDFs and finite at a tie in the middle."""
    t = np.array([[0.0, 0.5, 0.5, 0.0], [0.25, 0.25, 0.25, 0.25]], np.float32)
    p = np.array([[0.0, 0.5, 0.0, 0.5], [0.25, 0.25, 0.25, 0.25]], np.float32)
    loss = kloss.EarthMovers(power=power, reduction="sum")
    _, g = value_and_grad(lambda y: loss(t, y), p)
    D = np.cumsum(p.astype(np.float64) - t, axis=-1)[:, :-1]  # k = 0 .. C-2
    terms = power * np.abs(D) ** (power - 1) * np.sign(D)
    expected = np.zeros_like(p, np.float64)
    expected[:, :-1] = np.cumsum(terms[:, ::-1], axis=-1)[:, ::-1]
    np.testing.assert_allclose(g, expected, **F32)
    assert np.all(g[1] == 0.0)


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"power": 0.5}, ValueError, r"EarthMovers: `power` must be >= 1.0. Received: power=0.5"),
        ({"power": True}, TypeError, r"EarthMovers: `power` must be a number"),
        ({"from_logits": 1}, TypeError, r"EarthMovers: `from_logits` must be True or False"),
        ({"axis": 0}, ValueError, r"EarthMovers: `axis` must not be 0"),
        ({"axis": 1.0}, TypeError, r"EarthMovers: `axis` must be an int"),
    ],
)
def test_earth_movers_constructor_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        kloss.EarthMovers(**kwargs)


def test_earth_movers_call_errors():
    with pytest.raises(ValueError, match=r"earth_movers: `y_pred` must have rank >= 2"):
        kloss.earth_movers(np.ones(3, np.float32), np.ones(3, np.float32))
    with pytest.raises(ValueError, match=r"EarthMovers: `y_true` and `y_pred` must have the same"):
        kloss.EarthMovers()(np.ones((2, 3), np.float32), np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"earth_movers: `power` must be >= 1.0"):
        kloss.earth_movers(np.ones((2, 3)), np.ones((2, 3)), power=0)
    with pytest.raises(ValueError, match=r"`axis` must be a non-batch axis of `y_pred`"):
        kloss.earth_movers(np.ones((2, 3)), np.ones((2, 3)), axis=2)


# --------------------------------------------------------------------------- Sinkhorn


def _cost(C, kind="abs"):
    i = np.arange(C, dtype=np.float64)
    if kind == "abs":
        return np.abs(i[:, None] - i[None, :])
    if kind == "square":
        return np.square(i[:, None] - i[None, :]) / C
    m = np.random.default_rng(C).uniform(0.0, 3.0, size=(C, C))
    np.fill_diagonal(m, 0.0)
    return m


def _pot_sinkhorn2(t, p, M, epsilon, iterations):
    ot = _ot()
    with warnings.catch_warnings(), np.errstate(divide="ignore"):
        warnings.simplefilter("ignore")  # log(0) of empty bins; "did not converge"
        return np.array(
            [
                ot.sinkhorn2(
                    p[i],
                    t[i],
                    M,
                    reg=epsilon,
                    method="sinkhorn_log",
                    numItermax=iterations,
                    stopThr=0,
                )
                for i in range(len(p))
            ],
            np.float64,
        )


@pytest.mark.parametrize(
    "C,kind,epsilon,iterations",
    [(4, "abs", 0.1, 100), (6, "square", 0.05, 30), (5, "random", 1.0, 1), (3, "random", 0.5, 7)],
)
def test_sinkhorn_is_pot_sinkhorn2_log(C, kind, epsilon, iterations):
    rng = np.random.default_rng(C)
    t = _hist(rng, (5, C), zeros=True)
    t[0] = np.eye(C)[1]  # one-hot target: empty bins in b
    p = _hist(rng, (5, C))
    p[1] = _hist(rng, (1, C), zeros=True)[0]  # an empty predicted bin
    M = _cost(C, kind)
    expected = _pot_sinkhorn2(t, p, M, epsilon, iterations)
    loss = kloss.Sinkhorn(M, epsilon=epsilon, iterations=iterations, reduction="none")
    got = to_numpy(loss(t.astype(np.float32), p.astype(np.float32)))
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-6)  # float32 iterations
    got = to_numpy(
        kloss.sinkhorn(t, p, cost_matrix=M.tolist(), epsilon=epsilon, iterations=iterations)
    )
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(
        ref.sinkhorn(t, p, M, epsilon, iterations), expected, rtol=1e-10, atol=1e-12
    )


def test_sinkhorn_gradient_is_pot_torch_autograd(autodiff):
    """POT with the torch backend differentiates through the same iterations."""
    ot = _ot()
    torch = pytest.importorskip("torch")
    C, epsilon, iterations = 5, 0.2, 20
    rng = np.random.default_rng(3)
    t, p = _hist(rng, (4, C)), _hist(rng, (4, C))
    t[0] = np.eye(C)[4]
    M = _cost(C, "square")
    expected = []
    for i in range(4):
        a = torch.tensor(p[i], dtype=torch.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ot.sinkhorn2(
                a,
                torch.tensor(t[i]),
                torch.tensor(M),
                reg=epsilon,
                method="sinkhorn_log",
                numItermax=iterations,
                stopThr=0,
            )
        (g,) = torch.autograd.grad(value, a)
        expected.append(g.numpy())
    loss = kloss.Sinkhorn(M, epsilon=epsilon, iterations=iterations, reduction="sum")
    _, got = value_and_grad(lambda y: loss(t.astype(np.float32), y), p.astype(np.float32))
    np.testing.assert_allclose(got, np.array(expected), rtol=1e-4, atol=1e-5)


def test_sinkhorn_tends_to_exact_transport_and_earth_movers():
    """Small epsilon, many iterations: ot.emd2 (exact OT); with M = |i - j| that is the
    1-Wasserstein distance, EarthMovers(power=1)."""
    ot = _ot()
    C = 5
    rng = np.random.default_rng(4)
    t, p = _hist(rng, (3, C)), _hist(rng, (3, C))
    M = _cost(C, "abs")
    exact = np.array([ot.emd2(p[i], t[i], M) for i in range(3)])
    got = to_numpy(kloss.sinkhorn(t, p, cost_matrix=M, epsilon=0.05, iterations=500))
    np.testing.assert_allclose(got, exact, atol=2e-3)
    emd = to_numpy(kloss.earth_movers(t, p, power=1))
    np.testing.assert_allclose(exact, emd, rtol=1e-6, atol=1e-7)


def test_sinkhorn_from_logits_and_higher_rank():
    rng = np.random.default_rng(5)
    C = 4
    t = _hist(rng, (2, 3, C)).astype(np.float32)
    x = rng.normal(size=(2, 3, C)).astype(np.float32)
    M = _cost(C, "random")
    x64 = x.astype(np.float64)
    softmax = np.exp(x64) / np.exp(x64).sum(-1, keepdims=True)
    got = to_numpy(kloss.sinkhorn(t, x, cost_matrix=M, from_logits=True, iterations=20))
    assert got.shape == (2, 3)
    expected = ref.sinkhorn(t, softmax, M, iterations=20)
    np.testing.assert_allclose(got, expected, **F32)
    np.testing.assert_allclose(ref.sinkhorn(t, x, M, iterations=20, from_logits=True), expected)


def test_sinkhorn_zero_mass_bins_and_histograms_are_finite(autodiff):
    M = _cost(4, "abs")
    t = np.eye(4, dtype=np.float32)[[0, 2, 3]]
    p = np.array([[0, 0.5, 0.5, 0], [0, 0, 1, 0], [0, 0, 0, 0]], np.float32)
    loss = kloss.Sinkhorn(M, epsilon=0.05, iterations=200, reduction="sum")
    v, g = value_and_grad(lambda y: loss(t, y), p)
    assert np.isfinite(v) and np.all(np.isfinite(g))
    per = to_numpy(kloss.Sinkhorn(M, epsilon=0.05, iterations=200, reduction="none")(t, p))
    # Row 0: half the mass moves 1 bin, half 2 (the exact cost, up to the entropy blur);
    # row 1: no transport; row 2 (no mass at all) moves nothing.
    np.testing.assert_allclose(per, [1.5, 0.0, 0.0], atol=1e-3)
    # The gradient with respect to an exactly zero probability is 0 (documented).
    assert g[0, 0] == 0.0 and g[0, 3] == 0.0


def test_sinkhorn_cost_matrix_config_and_serialization():
    M = _cost(3, "random")
    loss = kloss.Sinkhorn(M, epsilon=0.3, iterations=7)
    assert loss.cost_matrix == M.tolist() and isinstance(loss.cost_matrix, list)
    config = keras.losses.serialize(loss)
    again = keras.losses.deserialize(json.loads(json.dumps(config)))
    assert again.cost_matrix == M.tolist()
    rng = np.random.default_rng(0)
    t, p = _hist(rng, (2, 3)).astype(np.float32), _hist(rng, (2, 3)).astype(np.float32)
    np.testing.assert_allclose(to_numpy(again(t, p)), to_numpy(loss(t, p)), **F32)


@pytest.mark.parametrize(
    "cost,error,match",
    [
        ([[0.0, 1.0], [1.0]], ValueError, r"Sinkhorn: `cost_matrix` must be square"),
        ([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0]], ValueError, r"`cost_matrix` must be square"),
        (
            [[0.0, -1.0], [1.0, 0.0]],
            ValueError,
            r"finite and >= 0. Received: cost_matrix\[0\]\[1\]=-1.0",
        ),
        ([[0.0, float("inf")], [1.0, 0.0]], ValueError, r"Received: cost_matrix\[0\]\[1\]=inf"),
        ([[0.0, float("nan")], [1.0, 0.0]], ValueError, r"Received: cost_matrix\[0\]\[1\]=nan"),
        ([0.0, 1.0], TypeError, r"Sinkhorn: `cost_matrix` must be a square matrix"),
        ([[0.0, "a"], [1.0, 0.0]], TypeError, r"`cost_matrix` must hold numbers"),
        (None, TypeError, r"Received: cost_matrix=None"),
    ],
)
def test_sinkhorn_cost_matrix_errors(cost, error, match):
    with pytest.raises(error, match=match):
        kloss.Sinkhorn(cost)


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"epsilon": 0.0}, ValueError, r"Sinkhorn: `epsilon` must be > 0.0. Received: epsilon=0.0"),
        (
            {"iterations": 0},
            ValueError,
            r"Sinkhorn: `iterations` must be >= 1. Received: iterations=0",
        ),
        ({"iterations": 10.0}, TypeError, r"Sinkhorn: `iterations` must be an int"),
        ({"from_logits": "yes"}, TypeError, r"Sinkhorn: `from_logits` must be True or False"),
    ],
)
def test_sinkhorn_hyperparameter_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        kloss.Sinkhorn(_cost(3), **kwargs)


def test_sinkhorn_class_count_mismatch_names_both_shapes():
    loss = kloss.Sinkhorn(_cost(3))
    y = np.full((2, 4), 0.25, np.float32)
    match = r"Sinkhorn: .*Received: y_pred.shape=\(2, 4\), cost_matrix.shape=\(3, 3\)"
    with pytest.raises(ValueError, match=match):
        loss(y, y)
    with pytest.raises(ValueError, match=r"sinkhorn: .*cost_matrix.shape=\(3, 3\)"):
        kloss.sinkhorn(y, y, cost_matrix=_cost(3))
