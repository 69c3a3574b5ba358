"""The Remote ID decoders survive 20,000 fuzzed inputs (bench/fuzz_remoteid.py) without a crash."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "fuzz_remoteid.py"


def test_fuzz_remoteid_no_crashes() -> None:
    spec = importlib.util.spec_from_file_location("fuzz_remoteid", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    report = module.fuzz(20_000, seed=1)
    assert report["crashes"] == 0, report["crash_examples"][:3]
    assert report["hangs"] == 0, report["hang_examples"][:3]
    rejected = report["rejected_by_reason"]
    assert rejected["truncated message"] > 0 and rejected["bad message pack count"] > 0
    if os.environ.get("SKYFENCE_REQUIRE_REALDATA") == "1":
        assert report["real_samples"] > 300  # the real captures seeded the mutations
