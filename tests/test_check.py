"""`kloss check` (`python -m kloss check` and the `kloss` console script): it runs every
loss on the chosen backends in subprocesses, reports pass/fail, and fails on disagreement,
NaN/Inf and errors. Each test runs the command as a user would, in a fresh process."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
# This leg's backend plus the numpy backend (forward only): two processes, compared.
BACKENDS = "numpy" if BACKEND == "numpy" else f"{BACKEND},numpy"


def run(*args, registry=None, command=(sys.executable, "-m", "kloss")):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if registry:
        env["KLOSS_CHECK_REGISTRY"] = registry
    return subprocess.run(
        [*command, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_check_passes_and_reports_json():
    r = run("check", "--backends", BACKENDS, "--losses", "Huber,dice,TripletSemiHard", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(r.stdout)
    assert report["ok"] is True
    assert list(report["losses"]) == ["Huber", "TripletSemiHard", "Dice"]
    for row in report["losses"].values():
        assert list(row) == BACKENDS.split(",")
        assert all(cell["status"] == "pass" and cell["cases"] > 0 for cell in row.values())
    assert report["summary"] == {"pass": 3 * len(row), "fail": 0, "error": 0}
    if BACKEND != "numpy":
        assert report["comparisons"] > 0
    for info in report["backends"].values():
        assert info["status"] == "ok" and info["version"]
    assert "losses" in r.stderr  # the progress bar (one line per quarter on a pipe)


def test_check_table_and_json_file(tmp_path):
    out = tmp_path / "check.json"
    r = run("check", "--backends", BACKENDS, "--losses", "MeanSquaredError", "--json", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["loss", *BACKENDS.split(",")]
    assert lines[2].split() == ["MeanSquaredError"] + ["pass"] * len(BACKENDS.split(","))
    assert lines[-1].startswith("kloss check: OK: 1 losses x")
    assert json.loads(out.read_text())["ok"] is True


def test_check_reports_disagreement_nonfinite_and_errors():
    if BACKEND != "torch":
        pytest.skip("the drifting fixture drifts on torch: runs in the torch leg")
    r = run(
        "check", "--backends", "torch,numpy", "--json", registry="tests.check_fixtures:REGISTRY"
    )
    assert r.returncode == 1, r.stdout + r.stderr
    report = json.loads(r.stdout)
    status = {
        name: {b: c["status"] for b, c in row.items()} for name, row in report["losses"].items()
    }
    assert status == {
        "Agrees": {"torch": "pass", "numpy": "pass"},
        "DriftsOnTorch": {"torch": "fail", "numpy": "fail"},
        "NanAtZero": {"torch": "fail", "numpy": "fail"},
        "RaisesOnNumpy": {"torch": "pass", "numpy": "error"},
    }
    drift = report["losses"]["DriftsOnTorch"]["torch"]["problems"]
    assert drift and all(p.startswith("disagrees with numpy: DriftsOnTorch-0/") for p in drift)
    nan = report["losses"]["NanAtZero"]["numpy"]["problems"]
    # -inf at a zero error (and NaN where a zero weight meets it, which never "agrees"),
    # only at that edge input.
    nonfinite = [p for p in nan if p.startswith("non-finite: ")]
    assert "non-finite: NanAtZero-0/edge_zero_error/per_sample: [-inf -inf]" in nonfinite
    assert all(p.startswith("non-finite: NanAtZero-0/edge_zero_error/") for p in nonfinite)
    err = report["losses"]["RaisesOnNumpy"]["numpy"]["problems"]
    assert "RuntimeError: no numpy support in this fixture" in err[0]
    assert report["ok"] is False and report["summary"] == {"pass": 3, "fail": 4, "error": 1}


def test_check_usage_errors():
    r = run("check", "--losses", "Hubber")
    assert r.returncode == 2
    assert "unknown loss 'Hubber'. Did you mean 'Huber'?" in r.stderr
    r = run("check", "--backends", "jaxx")
    assert r.returncode == 2 and "unknown backend 'jaxx'. Did you mean 'jax'?" in r.stderr
    r = run("check", "--jobs", "0")
    assert r.returncode == 2 and "--jobs must be >= 1. Received: 0" in r.stderr


def test_console_script_is_installed():
    script = pathlib.Path(sys.executable).parent / "kloss"
    if not script.exists():
        pytest.fail(f"no `kloss` console script next to {sys.executable}: pip install -e .")
    r = run("check", "--help", command=(str(script),))
    assert r.returncode == 0 and "--backends" in r.stdout and "--losses" in r.stdout
