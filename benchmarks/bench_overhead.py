"""Where a custom objective's extra training time goes, per boosting round.

``bench_training_speed`` measures the whole gap between a custom objective and the
built-in one. This script splits one boosting round of the custom path into its steps,
the way ``xgb.train`` / ``lgb.train`` run them, and times each with the library's own
built-in round next to it (squared error, same trees, the speed benchmark's setup):

- XGBoost: ``predict(dtrain, output_margin=True, training=True)`` (the predictions copied
  out of the booster), the objective (``SquaredError``: labels and weights read from the
  ``DMatrix``, gradient and Hessian computed), and ``boost`` (gradients copied in, tree
  grown); against ``update`` with ``reg:squarederror``.
- LightGBM: ``Booster.__inner_predict`` (predictions copied out as float64), the
  objective, and ``Booster.__boost`` (tree grown from the given gradients); against
  ``update`` with ``regression``.

The objective's share is what boostobj controls; the rest is the libraries' custom-
objective path, which no Python objective can avoid. ``--weighted`` gives both sides the
same sample weights, which turns off LightGBM's constant-Hessian histogram shortcut for
its built-in (a custom objective never gets it). Rerun:

    python benchmarks/bench_overhead.py                   # 1,000,000 rows, 100 rounds
    python benchmarks/bench_overhead.py --weighted
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import lightgbm as lgb
import numpy as np
import xgboost as xgb
from bench_training_speed import Trainer, environment, make_data

from boostobj import SquaredError


def timed(totals: dict[str, float], step: str, function: Callable[[], Any]) -> Any:
    """Run ``function``, add its seconds to ``totals[step]``, return its result."""
    start = time.perf_counter()
    result = function()
    totals[step] = totals.get(step, 0.0) + time.perf_counter() - start
    return result


def xgboost_rounds(trainer: Trainer, rounds: int) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds per step over ``rounds`` rounds: custom path, built-in path."""
    loss, data, custom, builtin = SquaredError(), trainer.data, {}, {}
    booster = xgb.Booster(trainer.params, [data])
    for iteration in range(rounds):
        predictions = timed(
            custom,
            "predictions out",
            lambda: booster.predict(data, output_margin=True, training=True),
        )
        gradient, hessian = timed(custom, "objective", lambda p=predictions: loss(p, data))
        timed(
            custom,
            "gradients in + tree",
            lambda i=iteration, g=gradient, h=hessian: booster.boost(data, i, grad=g, hess=h),
        )
    booster = xgb.Booster({**trainer.params, "objective": "reg:squarederror"}, [data])
    for iteration in range(rounds):
        timed(builtin, "built-in round", lambda i=iteration: booster.update(data, i))
    return custom, builtin


def lightgbm_rounds(trainer: Trainer, rounds: int) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds per step over ``rounds`` rounds: custom path, built-in path."""
    loss, data, custom, builtin = SquaredError(), trainer.data, {}, {}
    booster = lgb.Booster({**trainer.params, "objective": "none"}, data)
    for _ in range(rounds):
        # The steps of Booster.update(fobj=...), which are private methods.
        predictions = timed(
            custom, "predictions out", lambda: booster._Booster__inner_predict(data_idx=0)
        )
        gradient, hessian = timed(custom, "objective", lambda p=predictions: loss(p, data))
        timed(
            custom,
            "gradients in + tree",
            lambda g=gradient, h=hessian: booster._Booster__boost(grad=g, hess=h),
        )
    booster = lgb.Booster({**trainer.params, "objective": "regression"}, data)
    for _ in range(rounds):
        timed(builtin, "built-in round", booster.update)
    return custom, builtin


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--weighted", action="store_true")
    args = parser.parse_args(argv)
    X, y = make_data(args.rows, 20, binary=False)
    weight = None
    if args.weighted:
        weight = np.random.default_rng(1).uniform(0.5, 1.5, args.rows).astype(np.float32)
    init = float(SquaredError().init_score(y, weight))
    print(environment())
    print(f"rows={args.rows:,} rounds={args.rounds} repeats={args.repeats}", end=" ")
    print(f"weighted={args.weighted}")
    print("ms per round, minimum over repeats of the per-run mean\n")
    print("| library | step | ms / round | share of the built-in round |")
    print("|---|---|---:|---:|")
    for library, rounds_of in (("xgboost", xgboost_rounds), ("lightgbm", lightgbm_rounds)):
        trainer = Trainer(library, "train", X, y, init, args.rounds, args.threads, weight=weight)
        best: dict[str, float] = {}
        for _ in range(args.repeats):
            custom, builtin = rounds_of(trainer, args.rounds)
            for step, seconds in {**custom, **builtin}.items():
                best[step] = min(best.get(step, np.inf), 1e3 * seconds / args.rounds)
        base = best["built-in round"]
        custom_total = sum(v for k, v in best.items() if k != "built-in round")
        for step, ms in [*best.items(), ("custom round, total", custom_total)]:
            print(f"| {library} | {step} | {ms:.2f} | {ms / base:.3f} |")


if __name__ == "__main__":
    main()
