"""The ADS-B decoders survive 20,000 fuzzed inputs (bench/fuzz_adsb.py) without a crash."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "fuzz_adsb.py"
REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "traffic_samples"


def test_fuzz_adsb_no_crashes() -> None:
    if not (REALDATA / "sample_dump1090.bin").exists():
        if os.environ.get("SKYFENCE_REQUIRE_REALDATA") == "1":
            pytest.fail(f"real data missing: {REALDATA}")
        pytest.skip(f"real data not present: {REALDATA} (the fuzz seeds)")
    spec = importlib.util.spec_from_file_location("fuzz_adsb", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    report = module.fuzz(20_000, seed=1)
    assert report["crashes"] == 0, report["crash_examples"][:3]
    assert report["hangs"] == 0, report["hang_examples"][:3]
    assert report["pure_decode_errors"]["bad CRC"] > 0  # the mutations reach the CRC
