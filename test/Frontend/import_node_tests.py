#!/usr/bin/env python3
"""Imports every ONNX backend node test model with `qcc --emit=mlir` and
reports, per op, how many import and verify (qcc verifies the module before
printing it).

Usage: import_node_tests.py [--qcc PATH] [--node-dir DIR] [--ops A,B,...]
                            [--show-failures] [--include-expanded]

A test counts for the op types of its graph (Constant nodes aside). Tests
whose graph uses an op qcc does not support are reported separately as
'unsupported' and left out of the import rate of the supported ops.
"""
import argparse
import collections
import os
import re
import subprocess
import sys


CONST_RE = re.compile(r"\('([^']*)'\) must be a compile-time constant")


def run_qcc(args, model, path):
    """Runs qcc; inputs it needs as constants (axes, pads, ...) are bound to
    the test's first data set with -const-input and the import retried."""
    inits = {i.name for i in model.graph.initializer}
    inputs = [i.name for i in model.graph.input if i.name not in inits]
    data = os.path.join(os.path.dirname(path), "test_data_set_0")
    consts = []
    while True:
        cmd = [args.qcc, path, "--emit=mlir", "-o", os.devnull]
        cmd += [f"--const-input={n}={f}" for n, f in consts]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=args.timeout)
            rc, err = p.returncode, (p.stderr or "").strip()
        except subprocess.TimeoutExpired:
            return -1, "timeout"
        m = CONST_RE.search(err) if rc else None
        if not m or m.group(1) not in inputs or \
                m.group(1) in dict(consts):
            return rc, err
        pb = os.path.join(data, f"input_{inputs.index(m.group(1))}.pb")
        if not os.path.exists(pb):
            return rc, err
        consts.append((m.group(1), pb))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qcc", default="qcc")
    ap.add_argument("--node-dir", default=None)
    ap.add_argument("--ops", default=None, help="only tests using these ops")
    ap.add_argument("--show-failures", action="store_true")
    ap.add_argument("--include-expanded", action="store_true",
                    help="also run the *_expanded function-body tests")
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()

    import onnx  # noqa: E402

    node_dir = args.node_dir or os.path.join(
        os.path.dirname(onnx.__file__), "backend", "test", "data", "node")
    only = set(args.ops.split(",")) if args.ops else None

    per_op = collections.defaultdict(lambda: [0, 0])  # op -> [ok, total]
    unsupported = collections.Counter()
    failures = []
    n_ok = n_total = 0
    for name in sorted(os.listdir(node_dir)):
        if "_expanded" in name and not args.include_expanded:
            continue
        path = os.path.join(node_dir, name, "model.onnx")
        if not os.path.exists(path):
            continue
        try:
            model = onnx.load(path, load_external_data=False)
        except Exception:  # noqa: BLE001
            continue
        ops = sorted({n.op_type for n in model.graph.node
                      if n.op_type != "Constant"} or {"Constant"})
        if only and not (set(ops) & only):
            continue
        rc, err = run_qcc(args, model, path)
        if rc != 0 and "unsupported op" in err:
            unsupported[err.split("'")[1]] += 1
            continue
        if rc != 0 and ("unsupported element type" in err or
                        "is not a tensor" in err or
                        re.search(r"cast to \w+ is not supported", err)):
            unsupported["<types: string/float8/int4/sequence>"] += 1
            continue
        n_total += 1
        n_ok += rc == 0
        for op in ops:
            per_op[op][1] += 1
            per_op[op][0] += rc == 0
        if rc != 0:
            failures.append((name, err.splitlines()[-1] if err else
                             f"exit {rc}"))

    print(f"{'op':28s} imported/total")
    for op in sorted(per_op):
        ok, tot = per_op[op]
        print(f"{op:28s} {ok:4d}/{tot:<4d}{'' if ok == tot else '  <'}")
    print(f"\nsupported-op tests: {n_ok}/{n_total} import and verify")
    if unsupported:
        print("tests skipped for unsupported ops: " + ", ".join(
            f"{k}({v})" for k, v in sorted(unsupported.items())))
    if args.show_failures and failures:
        print("\nfailures:")
        for name, err in failures:
            print(f"  {name}: {err}")
    return 0 if n_ok == n_total else 1


if __name__ == "__main__":
    sys.exit(main())
