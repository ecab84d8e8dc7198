"""Helpers shared by the calibrated-recipe tests (test_calibration, test_smoothquant,
test_outliers, held_out): compile a one-input ("x") ONNX model with qcc flags, run the artifact
and read its outputs, and draw input sets with planted outlier channels."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

import qcc_harness as H


def compile_flags(model_path: Path, prefix: Path, *flags: str, target: str = "x86-64") -> H.ToolResult:
    """qcc on `model_path` for `target`; the precision comes from `flags` (float unless -bits=)."""
    return H.compile_model(model_path, prefix, target=target, bits=32, extra=list(flags))


def run_outputs(prefix: Path, x: np.ndarray, names=("y",), work: Path | None = None) -> dict:
    """The artifact at `prefix` on input "x": its outputs `names`; a failed run fails the test."""
    work = prefix.parent if work is None else work
    inputs = H.save_inputs({"x": x}, work / "in")
    r = H.run_artifact(prefix, inputs, work / "out")
    if not r.ok:
        pytest.fail(f"qcc-run failed: {r.first_error_line()}", pytrace=False)
    return H.load_outputs(work / "out", list(names))


def run_y(prefix: Path, x: np.ndarray) -> np.ndarray:
    """Output "y" of the artifact at `prefix` on input "x"."""
    return run_outputs(prefix, x)["y"]


def outlier_samples(seed: int, n: int, rows: int, k: int, outliers: list[int]) -> np.ndarray:
    """n input sets [rows, k] of N(0, 1) whose `outliers` channels are scaled by 30-60x."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, rows, k)).astype(np.float32)
    x[..., outliers] *= rng.uniform(30, 60, size=len(outliers)).astype(np.float32)
    return x


def saved_model(tmp_path_factory, folder: str, model: onnx.ModelProto) -> Path:
    """`model` written as FOLDER/model.onnx in a fresh temporary folder."""
    path = tmp_path_factory.mktemp(folder) / "model.onnx"
    onnx.save(model, path)
    return path
