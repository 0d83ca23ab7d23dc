"""Peak memory of a training run: boostobj objectives against the built-ins.

Each (library, loss, variant, rounds) runs in a fresh Python process that builds the
data of ``bench_training_speed`` (float32 features, the loss's starting margin) and trains
once. Two numbers per run:

- ``NumPy peak``: the peak of the memory allocated through Python and NumPy during the
  training call (``tracemalloc``; NumPy reports its array buffers to it, the libraries'
  C++ allocations are not included), in MB and in length-n float32 buffers (4n bytes).
  This is what the objective side of the custom path allocates: the libraries' copies of
  predictions and labels, the objective's outputs and temporaries.
- ``peak RSS``: the process's high-water resident memory (``ru_maxrss``), everything
  included; the data preparation is the same for every variant, so differences between
  variants are what training with them costs.

Training 10 and 100 rounds shows whether memory grows with the number of rounds (it
must not: a constant number of length-n buffers per run). Rerun:

    python benchmarks/bench_memory.py                  # 1,000,000 rows, a few minutes
    python benchmarks/bench_memory.py --rows 100000 --losses squared_error
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench_training_speed import (
    DEFAULT_LOSSES,
    LOSS_CASES,
    Trainer,
    case_data,
    environment,
    objectives,
)


def measure_child(library: str, api: str, loss: str, variant: str, rows: int, rounds: int) -> None:
    """In the child process: train once, print the measurements as one JSON line."""
    case = LOSS_CASES[loss]
    X, y = case_data(case, rows)
    trainer = Trainer(library, api, X, y, case.loss.init_score(y), rounds, threads=2)
    objective = objectives(case, library, api)[variant]
    tracemalloc.start()
    baseline, _ = tracemalloc.get_traced_memory()
    start = time.perf_counter()
    trainer.fit(objective)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(json.dumps({"numpy_peak": peak - baseline, "peak_rss": peak_rss, "seconds": seconds}))


def measure(library: str, api: str, loss: str, variant: str, rows: int, rounds: int) -> dict:
    """Run ``measure_child`` in a fresh process and return its measurements."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child"]
    command += [library, api, loss, variant, str(rows), str(rounds)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--api", choices=["train", "sklearn"], default="train")
    parser.add_argument("--libraries", nargs="+", default=["xgboost", "lightgbm"])
    parser.add_argument("--losses", nargs="+", choices=list(LOSS_CASES), default=DEFAULT_LOSSES)
    parser.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        library, api, loss, variant, rows, rounds = args.child
        measure_child(library, api, loss, variant, int(rows), int(rounds))
        return
    print(environment())
    print(f"api={args.api} rows={args.rows:,}; a length-n float32 buffer is {4 * args.rows:,} B\n")
    print(
        "| library | loss | variant | rounds | NumPy peak (MB) | in length-n float32 buffers "
        "| peak RSS (MB) | RSS − built-in (MB) |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|")
    buffer_bytes = 4 * args.rows
    for library in args.libraries:
        for loss in args.losses:
            for rounds in args.rounds:
                builtin_rss = None
                for variant in objectives(LOSS_CASES[loss], library, args.api):
                    result: dict[str, Any] = measure(
                        library, args.api, loss, variant, args.rows, rounds
                    )
                    builtin_rss = builtin_rss or result["peak_rss"]
                    print(
                        f"| {library} | {loss} | {variant} | {rounds} "
                        f"| {result['numpy_peak'] / 1e6:.1f} "
                        f"| {result['numpy_peak'] / buffer_bytes:.1f} "
                        f"| {result['peak_rss'] / 1e6:.0f} "
                        f"| {(result['peak_rss'] - builtin_rss) / 1e6:+.0f} |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
