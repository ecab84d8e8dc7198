"""pytest configuration for qcc's end-to-end tests.

Fresh random inputs every run: the base seed comes from QCC_TEST_SEED, or a new random one (printed
in the header and in every failure message, so a failure can be replayed with QCC_TEST_SEED=<seed>).
All tests are skipped, with a message, when build/bin/qcc or build/bin/qcc-run is missing.
"""
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "scripts"))

import qcc_harness as H  # noqa: E402


def pytest_configure(config):
    # Set once in the controller; xdist workers inherit the environment.
    if not os.environ.get("QCC_TEST_SEED"):
        os.environ["QCC_TEST_SEED"] = str(int.from_bytes(os.urandom(4), "little"))


def pytest_report_header(config):
    return [f"qcc: {H.QCC} ({'present' if H.QCC.is_file() else 'MISSING'}); "
            f"qcc-run: {H.QCC_RUN} ({'present' if H.QCC_RUN.is_file() else 'MISSING'})",
            f"QCC_TEST_SEED={os.environ.get('QCC_TEST_SEED')}"]


@pytest.fixture(scope="session", autouse=True)
def qcc_tools():
    if not H.tools_present():
        pytest.skip(f"qcc tools not built ({H.QCC}, {H.QCC_RUN}): run scripts/setup.sh first")
    return H.QCC, H.QCC_RUN


@pytest.fixture(scope="session")
def base_seed() -> int:
    return int(os.environ["QCC_TEST_SEED"])
