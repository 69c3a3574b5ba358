"""The SAPIENT fusion node survives 20,000 fuzzed inputs (bench/fuzz_sapient.py):
each is accepted, answered with an Error (or a negative ack), or refused by the
framing — no other exception, no hang, and every reply valid."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "fuzz_sapient.py"


def test_fuzz_sapient_no_crashes() -> None:
    spec = importlib.util.spec_from_file_location("fuzz_sapient", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    report = module.fuzz(20_000, seed=1)
    assert report["crashes"] == 0, report["crash_examples"][:3]
    assert report["hangs"] == 0, report["hang_examples"][:3]
    outcomes = report["outcomes"]
    # the mutations reach every stage: framing, parsing, validation, conversion, acceptance
    assert outcomes["framing: message too large"] > 0 and outcomes["error"] > 0
    assert outcomes["accepted"] > 0 and report["measurements_emitted"] > 0
    for reason in ("not a SapientMessage", "missing mandatory field", "bad UUID",
                   "number out of range"):
        assert report["rejections"][reason] > 0, reason
