#!/usr/bin/env python3
"""Runs the GEMM launch of bench/gpu_gemm.py time cases for a profiler (GPU machine).

  scripts/gpu/profile_gemm.py DIR [--calls N]

Each case folder under DIR (from `bench/gpu_gemm.py prepare`) holds a launch plan of two
launches, the per-token quantization kernel then the GEMM. The plan runs once whole (so the
GEMM reads real int8 codes and scales), then the GEMM launch alone N more times. Meant to run
under Nsight Compute, e.g. on the device tool:

  ncu --clock-control none -k regex:k1_ --launch-skip 1 --launch-count 1 --set full \\
      python3 scripts/gpu/profile_gemm.py gpu-artifacts/h5-prof/base
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir")
    parser.add_argument("--calls", type=int, default=3)
    args = parser.parse_args()
    import torch
    import gpu_gemm
    torch.zeros(1, device="cuda")  # the primary context, which the driver calls use
    driver = gpu_gemm.Driver()
    folders = sorted(p for p in Path(args.dir).iterdir() if (p / "model.plan.json").exists())
    if not folders:
        print("profile_gemm.py: no case folders under %s" % args.dir, file=sys.stderr)
        return 1
    for folder in folders:
        runner = gpu_gemm.PlanRunner(torch, driver, str(folder))
        launches = [i for i, c in enumerate(runner.commands) if c[0] == "launch"]
        runner()
        for _ in range(args.calls):
            runner(only={launches[-1]})
        torch.cuda.synchronize()
        print("profiled", folder.name, "launches", len(launches), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
