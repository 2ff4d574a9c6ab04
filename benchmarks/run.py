"""`make bench`: Earmark's costs, each printed as a ratio to a baseline measured in the
same run (these machines are shared and noisy, so absolute figures drift). Every server
figure is cold (the verdict cache off) unless the line says "warm". One module per
benchmark, run in this order; what each aims for is data, in targets.py:

1. bench_engine.py: the engine against raw durable_rules, and each stage of the path.
2. bench_grpc.py: Evaluate and EvaluateBatch over gRPC against no-op RPCs, on one
   process and on a process per core.
3. bench_warm.py: the cache on, Zipf-distributed traffic over 10,000 products.
4. bench_memory.py: the server's RSS over a million evaluations with the cache evicting.
5. bench_diff.py and bench_studio.py: what a merchandiser waits for (earmark diff, and
   Studio's catalog and checks while typing).
6. bench_bulk.py: `earmark score` over 200,000 products, one process against one per
   core (BENCH_BULK_PRODUCTS sets the size).
7. bench_against.py: the no-op, Evaluate and EvaluateBatch on this code and on an
   earlier commit (BENCH_AGAINST), side by side in the same run.
8. bench_observability.py: Evaluate with tracing off, on and sampled at 0, and with the
   decision log written, side by side.

BENCH_SECONDS sets how long each measured path runs per round (3 s).
"""

from __future__ import annotations

import os
import sys

import bench_against
import bench_bulk
import bench_diff
import bench_engine
import bench_grpc
import bench_memory
import bench_observability
import bench_studio
import bench_warm
from common import ROUNDS

from earmark.config import BUNDLED_RULES
from earmark.evaluation.evaluator import Evaluator


def main() -> int:
    seconds = float(os.environ.get("BENCH_SECONDS", "3"))
    evaluator = Evaluator.from_directory(BUNDLED_RULES)
    print(
        f"pack {evaluator.pack.version}: {len(evaluator.pack.rules)} rules; {os.cpu_count()} CPUs; best of {ROUNDS} rounds"
    )
    benchmarks = (
        lambda: bench_engine.report(evaluator),
        lambda: bench_grpc.report(evaluator, seconds),
        lambda: bench_warm.report(seconds),
        bench_memory.report,
        lambda: bench_diff.report(evaluator),
        bench_studio.report,
        bench_bulk.report,
        lambda: bench_against.report(seconds),
        lambda: bench_observability.report(seconds),
    )
    for benchmark in benchmarks:
        for line in benchmark():
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
