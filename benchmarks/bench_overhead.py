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
    python benchmarks/bench_overhead.py --stumps     # one split per tree

``--stumps`` grows one split per tree (XGBoost ``max_depth=1``, LightGBM
``num_leaves=2``): the tree costs next to nothing, so what remains of the gap between
"gradients in + tree" and "built-in round" is the libraries' fixed per-round cost of
taking gradients from Python.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
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


Steps = tuple[dict[str, float], dict[str, float]]


def step_times(
    data: Any,
    predict: Callable[[], Any],
    boost: Callable[[int, Any, Any], Any],
    builtin_update: Callable[[int], Any],
    rounds: int,
) -> Steps:
    """Seconds per step over ``rounds`` rounds of the custom path (``predict`` the
    predictions out, the objective on ``data``, ``boost`` with the gradients), and of
    ``builtin_update`` rounds of the built-in path."""
    loss, custom, builtin = SquaredError(), {}, {}
    for iteration in range(rounds):
        predictions = timed(custom, "predictions out", predict)
        gradient, hessian = timed(custom, "objective", partial(loss, predictions, data))
        timed(custom, "gradients in + tree", partial(boost, iteration, gradient, hessian))
    for iteration in range(rounds):
        timed(builtin, "built-in round", partial(builtin_update, iteration))
    return custom, builtin


def xgboost_rounds(trainer: Trainer, rounds: int) -> Steps:
    """``step_times`` with XGBoost's steps, as ``Booster.update(fobj=...)`` takes them."""
    data = trainer.data
    custom = xgb.Booster(trainer.params, [data])
    builtin = xgb.Booster({**trainer.params, "objective": "reg:squarederror"}, [data])
    return step_times(
        data,
        lambda: custom.predict(data, output_margin=True, training=True),
        lambda i, g, h: custom.boost(data, i, grad=g, hess=h),
        lambda i: builtin.update(data, i),
        rounds,
    )


def lightgbm_rounds(trainer: Trainer, rounds: int) -> Steps:
    """``step_times`` with LightGBM's steps: those of ``Booster.update(fobj=...)``, which
    are private methods."""
    data = trainer.data
    custom = lgb.Booster({**trainer.params, "objective": "none"}, data)
    builtin = lgb.Booster({**trainer.params, "objective": "regression"}, data)
    return step_times(
        data,
        lambda: custom._Booster__inner_predict(data_idx=0),
        lambda _, g, h: custom._Booster__boost(grad=g, hess=h),
        lambda _: builtin.update(),
        rounds,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--weighted", action="store_true")
    parser.add_argument("--stumps", action="store_true", help="one split per tree")
    args = parser.parse_args(argv)
    X, y = make_data(args.rows, 20, binary=False)
    weight = None
    if args.weighted:
        weight = np.random.default_rng(1).uniform(0.5, 1.5, args.rows).astype(np.float32)
    init = float(SquaredError().init_score(y, weight))
    print(environment())
    print(f"rows={args.rows:,} rounds={args.rounds} repeats={args.repeats}", end=" ")
    print(f"weighted={args.weighted} stumps={args.stumps}")
    print("ms per round, minimum over repeats of the per-run mean\n")
    print("| library | step | ms / round | share of the built-in round |")
    print("|---|---|---:|---:|")
    for library, rounds_of in (("xgboost", xgboost_rounds), ("lightgbm", lightgbm_rounds)):
        trainer = Trainer(library, "train", X, y, init, args.rounds, args.threads, weight=weight)
        if args.stumps:
            trainer.params.update({"max_depth": 1} if library == "xgboost" else {"num_leaves": 2})
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
