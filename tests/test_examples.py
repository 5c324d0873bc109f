"""Every notebook in examples/ runs, on this process's backend, in a fresh kernel."""

import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))


def test_there_are_examples():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_ends_with_its_backend_independent_result(path):
    """The last markdown cell is a "## Result" section stating what holds on every backend,
    and the last code cell builds the `result` dict with the backend name and checks it."""
    nbformat = pytest.importorskip("nbformat")
    cells = nbformat.read(path, as_version=4).cells
    markdown = [c.source for c in cells if c.cell_type == "markdown"]
    code = [c.source for c in cells if c.cell_type == "code"]
    assert markdown[-1].startswith("## Result"), markdown[-1][:80]
    assert "every backend" in markdown[-1]
    assert "result = {" in code[-1]
    assert '"backend": keras.backend.backend()' in code[-1]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend == "numpy":
        pytest.skip("numpy backend cannot train: examples run on tensorflow, jax and torch")
    # The kernel inherits KERAS_BACKEND and runs this interpreter (the venv's), from the
    # repository root so that `import kloss` finds this checkout.
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT)}},
    )
    client.execute()
    outputs = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    # The notebook prints the backend it ran on: proof that the kernel saw KERAS_BACKEND.
    assert f"backend: {backend}" in outputs
