"""The ASTERIX decoders survive 20,000 fuzzed inputs (bench/fuzz_asterix.py) without a crash."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "fuzz_asterix.py"
REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "asterix_croatiacontrol"


def test_fuzz_asterix_no_crashes() -> None:
    if not (REALDATA / "cat_034_048.pcap").exists():
        if os.environ.get("SKYFENCE_REQUIRE_REALDATA") == "1":
            pytest.fail(f"real data missing: {REALDATA}")
        pytest.skip(f"real data not present: {REALDATA} (the fuzz seeds)")
    spec = importlib.util.spec_from_file_location("fuzz_asterix", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    report = module.fuzz(20_000, seed=1)
    assert report["crashes"] == 0, report["crash_examples"][:3]
    assert report["hangs"] == 0, report["hang_examples"][:3]
    errors = report["strict_decode_errors"]
    # the mutations reach the item reader, not only the block framing
    assert errors["unknown item I048/FRN29"] > 0 and errors["truncated item I048/250"] > 0
    assert report["records_decoded"] > 0 and report["measurements"] > 0
