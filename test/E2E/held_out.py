"""Held-out evaluation shared by the calibrated-recipe tests (test_gptq.py, test_awq.py): a
one-input ("x") model compiled in float is the reference; an artifact's error is its relative L2
against that reference over held-out input sets."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import qcc_harness as H
from recipe_harness import run_outputs


def run(prefix: Path, x: np.ndarray, work: Path) -> np.ndarray:
    """Output "y" of the artifact at `prefix` on input "x", as float64."""
    return run_outputs(prefix, x, work=work)["y"].astype(np.float64)


def float_reference(model: Path, root: Path, held_out: list[np.ndarray]) -> list[np.ndarray]:
    """The float artifact's outputs on every held-out set."""
    ref = H.compile_model(model, root / "f32" / "model", target="x86-64", bits=32)
    assert ref.ok, ref.first_error_line()
    return [run(root / "f32" / "model", x, root / f"f32-{i}") for i, x in enumerate(held_out)]


def held_out_error(setup: dict, prefix: Path) -> float:
    """Relative L2 of the artifact against the float artifact over the held-out sets
    (`setup["held_out"]`, `setup["want"]`)."""
    num = den = 0.0
    for i, (x, want) in enumerate(zip(setup["held_out"], setup["want"])):
        got = run(prefix, x, prefix.parent / f"run{i}")
        num += float(((got - want) ** 2).sum())
        den += float((want ** 2).sum())
    return (num / den) ** 0.5
