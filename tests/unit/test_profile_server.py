"""`make profile`'s summary (benchmarks/profile_server.py): each sample is charged to the
part of the request path nearest its leaf, so a part's share is what it does itself."""

from __future__ import annotations

import sys
from pathlib import Path

from helpers import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import profile_server  # benchmarks/ is not a package

THREAD = "Thread._bootstrap (threading.py:1002);Thread.run (threading.py:982)"
SERVE = "_serve (grpc/_server.py:1314)"
WORK = "CallQueue._work (earmark/server/call_queue.py:153)"
WRAPPED = "wrapped (earmark/server/interceptors.py:200)"
EVALUATE = "EarmarkServicer.Evaluate (earmark/server/servicer.py:90)"


def test_samples_go_to_the_part_nearest_the_leaf(tmp_path: Path) -> None:
    collapsed = tmp_path / "load.txt"
    collapsed.write_text(
        "\n".join(
            [
                f"{THREAD};{SERVE} 5",
                f"{THREAD};{WORK};{WRAPPED};{EVALUATE};Composer.compose (earmark/evaluation/verdict.py:10);"
                "sentence (earmark/evaluation/wording.py:5) 3",
                f"{THREAD};{WORK};{WRAPPED};BoundLogger.info (structlog/_native.py:1);"
                "BytesLogger.msg (structlog/_output.py:347) 2",
                f"{THREAD};{WORK};{WRAPPED};{EVALUATE} 1",
                f"{THREAD};{WORK};Condition.wait (threading.py:327) 4",
                f"{THREAD};somewhere (elsewhere.py:1) 1",
            ]
        )
        + "\n"
    )
    total, parts, leaves = profile_server.summarise(collapsed)
    assert 16 == total
    assert {
        "grpcio (its Python layer, and the C core it calls)": 5,
        "compose (verdict, wording)": 3,
        "logging (structlog, orjson)": 2,
        "servicer": 1,
        "threads handing calls over": 4,
        "other": 1,
    } == dict(parts)
    assert 4 == leaves["Condition.wait (threading.py:327)"]
