"""Every wire-format decoder survives 20,000 fuzzed inputs (bench/fuzz_<format>.py)
without a crash or a hang, and the mutations reach past the framing: ADS-B
(Beast, AVR, DF17/18), Remote ID, ASTERIX (CAT048/034/062/015) and the SAPIENT
fusion node (each input accepted, answered with an Error or a negative ack, or
refused by the framing, every reply valid)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


def _adsb(report: dict[str, Any]) -> None:
    assert report["pure_decode_errors"]["bad CRC"] > 0  # the mutations reach the CRC


def _remoteid(report: dict[str, Any]) -> None:
    rejected = report["rejected_by_reason"]
    assert rejected["truncated message"] > 0 and rejected["bad message pack count"] > 0
    if os.environ.get("SKYFENCE_REQUIRE_REALDATA") == "1":
        assert report["real_samples"] > 300  # the real captures seeded the mutations


def _asterix(report: dict[str, Any]) -> None:
    errors = report["strict_decode_errors"]
    # the mutations reach the item reader, not only the block framing
    assert errors["unknown item I048/FRN29"] > 0 and errors["truncated item I048/250"] > 0
    assert report["records_decoded"] > 0 and report["measurements"] > 0


def _sapient(report: dict[str, Any]) -> None:
    outcomes = report["outcomes"]
    # the mutations reach every stage: framing, parsing, validation, conversion, acceptance
    assert outcomes["framing: message too large"] > 0 and outcomes["error"] > 0
    assert outcomes["accepted"] > 0 and report["measurements_emitted"] > 0
    for reason in ("not a SapientMessage", "missing mandatory field", "bad UUID",
                   "number out of range"):
        assert report["rejections"][reason] > 0, reason


# format: (the real sample its seeds need, if any; its own checks of the report)
FORMATS: dict[str, tuple[Path | None, Callable[[dict[str, Any]], None]]] = {
    "adsb": (REALDATA / "traffic_samples" / "sample_dump1090.bin", _adsb),
    "remoteid": (None, _remoteid),  # real captures when present, synthetic frames always
    "asterix": (REALDATA / "asterix_croatiacontrol" / "cat_034_048.pcap", _asterix),
    "sapient": (None, _sapient),
}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_fuzz_no_crashes(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    needs, check = FORMATS[fmt]
    if needs is not None and not needs.exists():
        if os.environ.get("SKYFENCE_REQUIRE_REALDATA") == "1":
            pytest.fail(f"real data missing: {needs}")
        pytest.skip(f"real data not present: {needs} (the fuzz seeds)")
    monkeypatch.syspath_prepend(str(BENCH))  # the scripts import bench/fuzzing.py
    module = importlib.import_module(f"fuzz_{fmt}")
    report = module.fuzz(20_000, seed=1)
    assert report["crashes"] == 0, report["crash_examples"][:3]
    assert report["hangs"] == 0, report["hang_examples"][:3]
    check(report)

