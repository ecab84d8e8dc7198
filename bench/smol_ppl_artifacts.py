"""SmolLM2-135M (s128) WikiText-2 test perplexity of given qcc artifacts, on the 32 windows of
bench/quality.py's SmolLM2 block: for comparing artifacts that are already built (two cached
compiles of one recipe, or one artifact with its weights file swapped for another's).

  .venv/bin/python bench/smol_ppl_artifacts.py PREFIX [PREFIX ...] [--threads 2] [--windows 32]

PREFIX is an artifact prefix (PREFIX.json, .so, .weights). The artifacts run in-process through
the runtime's C API (bench/eval_common.QccModel); QCC_RUNTIME_LIB selects another build of the
runtime (e.g. one of an older artifact ABI).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality as Q  # noqa: E402  (sets up the paths of build_smollm2 and eval_common)

E = Q.E


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prefixes", nargs="+", type=Path)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--windows", type=int, default=32)
    a = ap.parse_args(argv)
    import build_smollm2 as BS
    info = BS.ensure_model(128, run_check=False, quiet=True)
    tok = BS.load_tokenizer(info["tokenizer"])
    S = 128
    test_ids = BS.wikitext_ids(tok, None, "test")
    starts = E.token_windows(test_ids, a.windows, S)
    for prefix in a.prefixes:
        model = E.QccModel(prefix, threads=a.threads)
        nll, n, t0 = 0.0, 0, time.perf_counter()
        for s in starts:
            lg = model.run({"input_ids": test_ids[None, s:s + S]})["logits"][0, :S - 1].astype(np.float64)
            m = lg.max(1, keepdims=True)
            lse = m[:, 0] + np.log(np.exp(lg - m).sum(1))
            nll += float(np.sum(lse - lg[np.arange(S - 1), test_ids[s + 1:s + S]]))
            n += S - 1
        print(f"{prefix}: perplexity {math.exp(nll / n):.3f} over {len(starts)} windows "
              f"({time.perf_counter() - t0:.0f} s, {a.threads} threads)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
