"""The push source (live/push_source.py) the SAPIENT server feeds the engine through."""

from __future__ import annotations

import json
import threading

from skyfence.live.push_source import PushSource


def test_pushed_records_come_out_as_batches_by_t_then_the_end() -> None:
    src = PushSource("test")
    src.push([{"t": 1.0, "sensor": "a"}, {"t": 1.0, "sensor": "b"}])
    src.push([{"t": 1.0, "sensor": "c"}])  # merged with the group waiting
    src.push([{"t": 2.0, "sensor": "a"}])
    src.close()
    assert not src.push([{"t": 3.0, "sensor": "late"}]) and src.dropped == 1
    batches = list(src.batches())
    assert [(b.t_s, [json.loads(x)["sensor"] for x in b.lines]) for b in batches] == [
        (1.0, ["a", "b", "c"]), (2.0, ["a"])]
    assert [b.first_line for b in batches] == [1, 4] and batches[0].origin == "test"


def test_pushes_from_threads_reach_a_blocked_reader() -> None:
    src = PushSource(max_queue=10_000)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.extend(x for b in src.batches() for x in b.lines))
    reader.start()
    writers = [threading.Thread(target=lambda k=k: [src.push([{"t": float(i), "k": k}])
                                                    for i in range(200)]) for k in range(4)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    src.close()
    reader.join(10)
    assert not reader.is_alive() and len(got) == 800 and src.lines == 800


def test_a_full_queue_refuses_and_counts() -> None:
    src = PushSource(max_queue=2)
    assert src.push_lines(1.0, [b"{}"]) and src.push_lines(2.0, [b"{}"])
    assert not src.push_lines(3.0, [b"{}", b"{}"]) and src.dropped == 2
