#!/usr/bin/env python3
"""Writes a calibration statistics folder in the `qcc --calib-stats` format
(index.json + <prefix>.xtx.npy / .mean_square.npy / .mean_abs.npy) for lit
tests of the stats option of qcc-quantize-weights and qcc-awq-scale.

  make-calib-stats.py OUT_DIR LAYER[,LAYER...]:K [LAYER...:K ...]

Each argument is one observed activation with K channels read by the named
matmuls. X^T X comes from 256 correlated rows (fixed seed); a K of the form
'K!' writes a float32 xtx instead (a malformed file), 'K~' makes every 8th
channel 30x larger (outlier channels, for AWQ).
"""
import json
import sys
from pathlib import Path

import numpy as np

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(7)
activations = []
for i, spec in enumerate(sys.argv[2:]):
    names, k = spec.rsplit(":", 1)
    bad = k.endswith("!")
    skewed = k.endswith("~")
    k = int(k.rstrip("!~"))
    x = rng.standard_normal((256, 4)) @ rng.standard_normal((4, k))
    x += 0.1 * rng.standard_normal((256, k))
    if skewed:
        x[:, 3::8] *= 30.0
    xtx = x.T @ x / x.shape[0]
    np.save(out / f"{i}.xtx.npy", xtx.astype(np.float32 if bad else np.float64))
    np.save(out / f"{i}.mean_square.npy", np.diag(xtx).copy())
    np.save(out / f"{i}.mean_abs.npy", np.abs(x).mean(axis=0))
    activations.append({"file_prefix": str(i), "rows": 256, "layers": names.split(",")})
(out / "index.json").write_text(json.dumps({"samples": 1, "activations": activations}, indent=2))
