"""The ``boostobj`` command: ``demo``, ``fit`` and ``predict``.

``boostobj demo`` trains on generated data and shows what the losses do; ``boostobj fit``
trains an estimator on a CSV or Parquet file and saves it with its settings;
``boostobj predict`` applies a saved model. Also runnable as ``python -m boostobj``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from boostobj import __version__
from boostobj.base import Loss

#: The file ``fit`` writes next to the model: everything ``predict`` needs to apply it.
SETTINGS_FILE = "settings.json"
#: The model file inside the model folder (the estimator's ``save_model`` format).
MODEL_FILE = "model.json"
#: Quantile levels used by ``--loss quantile`` when ``--alpha`` is not given.
DEFAULT_ALPHAS = (0.05, 0.5, 0.95)
#: Exit status for a usage or data error (the status argparse uses).
USAGE_ERROR = 2


class CLIError(Exception):
    """A problem with the command line or the user's data: reported in one line."""


# ----------------------------------------------------------------- shared helpers
def _require(module: str, purpose: str, install: str = "boostobj[demo]") -> Any:
    """Import an optional dependency, or fail with the command that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise CLIError(
            f"{purpose} needs the optional package {module!r}: pip install '{install}'"
        ) from error


def read_table(path: str | Path) -> Any:
    """Read a CSV (any other suffix) or Parquet (``.parquet``, ``.pq``) file into pandas."""
    path = Path(path)
    pd = _require("pandas", "reading a data file")
    if not path.is_file():
        raise CLIError(f"no such file: {path}")
    if path.suffix.lower() in (".parquet", ".pq"):
        _require("pyarrow", "reading Parquet", install="pyarrow")
        return pd.read_parquet(path)
    try:
        return pd.read_csv(path)
    except (ValueError, UnicodeDecodeError) as error:
        raise CLIError(f"cannot read {path} as CSV: {error}") from error


def _loss_parameters() -> str:
    """One line per loss with its constructor parameters, for ``fit --help``."""
    lines = []
    for name in sorted(Loss.registry):
        params = Loss.registry[name]().constructor_params()
        if name == "quantile":
            params.pop("alpha")  # the levels come from --alpha
        described = ", ".join(f"{key}={value!r}" for key, value in params.items())
        lines.append(f"  {name:<14}{described or '(no parameters)'}")
    return "\n".join(lines)


def _parse_key_values(pairs: list[str], option: str) -> dict[str, Any]:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}``; values are read as JSON if possible."""
    parsed: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CLIError(f"{option} expects KEY=VALUE, got {pair!r}")
        try:
            parsed[key] = json.loads(value)
        except json.JSONDecodeError:
            parsed[key] = value
    return parsed


# --------------------------------------------------------------------------- demo
def _run_demo(args: argparse.Namespace) -> int:
    for module in ("matplotlib", "pandas", "tqdm"):
        _require(module, "boostobj demo")
    from boostobj.demo import run_demo

    quick = args.quick or os.environ.get("BOOSTOBJ_QUICK") == "1"
    run_demo(args.out, quick=quick, backends=args.backend, random_state=args.seed)
    return 0


# ---------------------------------------------------------------------------- fit
def _task(loss: str) -> str:
    """``"quantile"``, ``"classification"`` or ``"regression"``."""
    cls = Loss.registry[loss]
    if loss == "quantile":
        return "quantile"
    return "classification" if cls.binary_labels or cls.supports_multiclass else "regression"


def _prepare_training_data(
    frame: Any, target: str, exclude: list[str], task: str
) -> tuple[np.ndarray, np.ndarray, list[str], int]:
    """Features, target, feature names and the number of rows dropped (missing target)."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if target not in frame.columns:
        raise CLIError(
            f"target column {target!r} not found; the columns are: {', '.join(map(str, frame))}"
        )
    column = frame[target]
    if task != "classification" and not (is_numeric_dtype(column) and not is_bool_dtype(column)):
        raise CLIError(
            f"target column {target!r} is not numeric (dtype {column.dtype}); a {task} "
            "loss needs numbers"
        )
    unknown = [name for name in exclude if name not in frame.columns]
    if unknown:
        raise CLIError(f"--exclude names unknown columns: {', '.join(unknown)}")
    keep = column.notna().to_numpy()
    if not keep.any():
        raise CLIError(f"target column {target!r} has no values")
    features = [name for name in frame.columns if name != target and name not in exclude]
    if not features:
        raise CLIError("no feature columns left besides the target")
    try:
        X = _feature_matrix(frame[keep], features)
    except CLIError as error:
        raise CLIError(f"{error} (encode them, or leave them out with --exclude)") from error
    return X, column[keep].to_numpy(), features, int((~keep).sum())


def _feature_matrix(frame: Any, features: list[str]) -> np.ndarray:
    """The feature columns as float64; missing values stay NaN (both libraries handle it)."""
    from pandas.api.types import is_numeric_dtype

    absent = [name for name in features if name not in frame.columns]
    if absent:
        raise CLIError(f"the data lacks the model's feature columns: {', '.join(absent)}")
    non_numeric = [name for name in features if not is_numeric_dtype(frame[name])]
    if non_numeric:
        raise CLIError(f"feature columns must be numeric; not numeric: {', '.join(non_numeric)}")
    return frame[features].to_numpy(np.float64)


def _make_estimator(args: argparse.Namespace, task: str) -> Any:
    """The estimator the options describe; raises CLIError for bad loss parameters."""
    from boostobj.estimators import BoostClassifier, BoostRegressor, QuantileRegressor

    loss_params = _parse_key_values(args.loss_param, "--loss-param")
    if task == "quantile" and "alpha" in loss_params:
        raise CLIError("--loss quantile takes its levels from --alpha, not --loss-param")
    try:
        loss = Loss.registry[args.loss](**loss_params)
    except (TypeError, ValueError) as error:
        raise CLIError(f"--loss-param for {args.loss}: {error}") from error
    common = {
        "backend": args.backend,
        "n_estimators": args.n_estimators,
        "learning_rate": args.learning_rate,
        "random_state": args.seed,
        **_parse_key_values(args.param, "--param"),
    }
    if task == "quantile":
        return QuantileRegressor(
            alphas=args.alpha,
            epsilon=loss.epsilon,
            conformal=args.conformal,
            calibration_size=args.calibration_size,
            **common,
        )
    estimator = BoostClassifier if task == "classification" else BoostRegressor
    return estimator(loss=loss, **common)


def _run_fit(args: argparse.Namespace) -> int:
    task = _task(args.loss)
    if args.alpha is not None and task != "quantile":
        raise CLIError("--alpha sets quantile levels: use it with --loss quantile")
    if args.conformal and task != "quantile":
        raise CLIError("--conformal applies to --loss quantile only")
    if task == "quantile":
        args.alpha = list(args.alpha or DEFAULT_ALPHAS)
    if not 0 < args.test_size < 1:
        raise CLIError(f"--test-size must be in (0, 1), got {args.test_size}")
    estimator = _make_estimator(args, task)  # option errors before reading data

    frame = read_table(args.data)
    X, y, features, dropped = _prepare_training_data(frame, args.target, args.exclude, task)
    if dropped:
        print(f"dropped {dropped} of {len(frame)} rows: their target {args.target!r} is missing")
    from sklearn.model_selection import train_test_split

    try:
        X_train, X_test, y_train, y_test = train_test_split(
            X,
            y,
            test_size=args.test_size,
            random_state=args.seed,
            stratify=y if task == "classification" else None,
        )
        estimator.fit(X_train, y_train)
    except ValueError as error:  # too few rows or classes, bad parameters: say it plainly
        raise CLIError(str(error)) from error

    metrics = _held_out_metrics(estimator, task, X_test, y_test)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    estimator.save_model(out / MODEL_FILE)
    settings = {
        "boostobj_version": __version__,
        "task": task,
        "options": {key: value for key, value in vars(args).items() if key != "run"},
        "features": features,
        "rows": {"train": len(y_train), "test": len(y_test), "dropped_missing_target": dropped},
        "held_out_metrics": metrics,
    }
    (out / SETTINGS_FILE).write_text(json.dumps(settings, indent=2) + "\n")
    print(f"held-out metrics ({len(y_test)} of {len(y)} rows):")
    for name, value in metrics.items():
        print(f"  {name:<22}{value:.4g}")
    print(f"model and settings saved in {out}/")
    return 0


def _held_out_metrics(estimator: Any, task: str, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    from boostobj.demo import classification_metrics, interval_metrics, regression_metrics

    if task == "classification":
        y_index = np.searchsorted(estimator.classes_, y)
        return classification_metrics(y_index, estimator.predict_proba(X))
    if task == "regression":
        return regression_metrics(y, estimator.predict(X))
    return interval_metrics(y, estimator.predict(X), estimator.alphas_)


# ------------------------------------------------------------------------ predict
def _run_predict(args: argparse.Namespace) -> int:
    model_dir = Path(args.model_dir)
    settings_path = model_dir / SETTINGS_FILE
    if not settings_path.is_file():
        raise CLIError(
            f"{model_dir} holds no {SETTINGS_FILE}: is it a folder 'boostobj fit' wrote?"
        )
    settings = json.loads(settings_path.read_text())
    frame = read_table(args.data)
    X = _feature_matrix(frame, settings["features"])
    unknown = [name for name in args.keep if name not in frame.columns]
    if unknown:
        raise CLIError(f"--keep names unknown columns: {', '.join(unknown)}")
    from boostobj.estimators import load_model

    estimator = load_model(model_dir / MODEL_FILE)
    output = frame[args.keep].copy()
    if settings["task"] == "classification":
        probability = estimator.predict_proba(X)
        classes = estimator.classes_
        for k, label in enumerate(classes):
            output[f"probability_{label}"] = probability[:, k]
        if len(classes) == 2:
            output["label"] = np.where(probability[:, 1] >= args.threshold, classes[1], classes[0])
        else:
            output["label"] = classes[np.argmax(probability, axis=1)]
    elif settings["task"] == "quantile":
        for alpha, column in zip(estimator.alphas_, estimator.predict(X).T, strict=True):
            output[f"q{alpha:g}"] = column
    else:
        output["prediction"] = estimator.predict(X)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    output.to_csv(args.out, index=False)
    print(f"wrote {len(output)} predictions to {args.out}")
    return 0


# ------------------------------------------------------------------------- parser
class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keep the descriptions' line breaks; show each option's default, if it has one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        help_text = action.help or ""
        default = action.default
        if default is not None and default is not False and default not in ([], argparse.SUPPRESS):
            help_text += " (default: %(default)s)"
        return help_text


def build_parser() -> argparse.ArgumentParser:
    """The ``boostobj`` argument parser with its three subcommands."""
    parser = argparse.ArgumentParser(
        prog="boostobj",
        description="Custom training objectives for XGBoost and LightGBM.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"boostobj {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="show what the losses do, on generated data",
        formatter_class=_Formatter,
        description=(
            "Train XGBoost and LightGBM with boostobj's losses and the libraries' built-ins\n"
            "on generated data (nothing is downloaded) and compare them:\n"
            "  1. robust regression on heavy-tailed data with outliers: log-cosh, Huber and\n"
            "     pseudo-Huber against squared error and the built-in objectives;\n"
            "  2. 90% prediction intervals with QuantileRegressor: coverage and width, with\n"
            "     and without conformal calibration, against the built-in quantile objectives;\n"
            "  3. imbalanced classification: logistic, focal and exponential against the\n"
            "     built-in logistic (log-loss, ROC-AUC, average precision).\n"
            "Prints a results table, writes it to results.csv and the plots intervals.png\n"
            "and reliability.png to the output folder. Needs matplotlib, pandas and tqdm\n"
            "(pip install 'boostobj[demo]'). Setting the environment variable\n"
            "BOOSTOBJ_QUICK=1 has the effect of --quick."
        ),
    )
    demo.add_argument("--out", default="boostobj-demo", help="folder for the plots and results.csv")
    demo.add_argument(
        "--quick", action="store_true", help="small data and few trees: a smoke test in seconds"
    )
    demo.add_argument(
        "--backend",
        nargs="+",
        choices=("xgboost", "lightgbm"),
        default=["xgboost", "lightgbm"],
        help="the boosting libraries to compare",
    )
    demo.add_argument("--seed", type=int, default=0, help="seed of the data and the models")
    demo.set_defaults(run=_run_demo)

    fit = commands.add_parser(
        "fit",
        help="train a model on a CSV or Parquet file",
        formatter_class=_Formatter,
        description=(
            "Train on DATA (CSV, or Parquet for a .parquet/.pq suffix), report metrics on a\n"
            "held-out part of it and save the model with its settings in --out.\n\n"
            "Rows whose target is missing are dropped and counted. Every other column is a\n"
            "feature (leave columns out with --exclude); features must be numeric and may\n"
            "have missing values. The task follows from --loss:\n"
            "  quantile          QuantileRegressor, one model per --alpha; numeric target;\n"
            "  logistic, focal,  BoostClassifier; the target holds class labels (numbers or\n"
            "  exponential,      text); logistic and exponential need two classes, focal\n"
            "  softmax           and softmax take two or more;\n"
            "  the others        BoostRegressor; numeric target.\n"
            "The saved model is the one trained without the held-out rows: the one the\n"
            "metrics describe.\n\n"
            f"Loss parameters (--loss-param NAME=VALUE):\n{_loss_parameters()}"
        ),
    )
    fit.add_argument("data", metavar="DATA", help="CSV or Parquet file with a header row")
    fit.add_argument("--target", required=True, help="name of the target column")
    fit.add_argument(
        "--loss",
        default="squared_error",
        choices=sorted(Loss.registry),
        help="the loss to train with; it also sets the task (see above)",
    )
    fit.add_argument(
        "--alpha",
        type=float,
        nargs="+",
        metavar="ALPHA",
        help=f"quantile levels in (0, 1) for --loss quantile (default {DEFAULT_ALPHAS})",
    )
    fit.add_argument(
        "--loss-param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter of the loss, e.g. delta=2 for huber (repeatable; listed above)",
    )
    fit.add_argument(
        "--backend", default="xgboost", choices=("xgboost", "lightgbm"), help="the boosting library"
    )
    fit.add_argument("--n-estimators", type=int, default=200, help="number of boosting rounds")
    fit.add_argument("--learning-rate", type=float, default=0.1, help="shrinkage per round")
    fit.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter passed to the library's model, e.g. max_depth=4 (repeatable)",
    )
    fit.add_argument(
        "--conformal",
        action="store_true",
        help="quantile only: calibrate the intervals on --calibration-size of the training "
        "rows (conformalized quantile regression)",
    )
    fit.add_argument(
        "--calibration-size",
        type=float,
        default=0.2,
        help="with --conformal: fraction of the training rows kept for calibration",
    )
    fit.add_argument(
        "--test-size", type=float, default=0.2, help="fraction of the rows held out for metrics"
    )
    fit.add_argument(
        "--exclude", nargs="+", default=[], metavar="COLUMN", help="columns that are not features"
    )
    fit.add_argument("--seed", type=int, default=0, help="seed of the split and the model")
    fit.add_argument("--out", required=True, help="folder to write the model and settings to")
    fit.set_defaults(run=_run_fit)

    predict = commands.add_parser(
        "predict",
        help="apply a model saved by 'boostobj fit'",
        formatter_class=_Formatter,
        description=(
            "Apply the model in MODEL_DIR to DATA and write one row per input row to --out:\n"
            "column 'prediction' (regression), 'q<ALPHA>' per quantile level (quantile), or\n"
            "'probability_<CLASS>' per class and the predicted 'label' (classification).\n"
            "DATA needs the model's feature columns; other columns are ignored."
        ),
    )
    predict.add_argument("model_dir", metavar="MODEL_DIR", help="folder written by boostobj fit")
    predict.add_argument("data", metavar="DATA", help="CSV or Parquet file with the features")
    predict.add_argument("--out", required=True, help="CSV file to write the predictions to")
    predict.add_argument(
        "--keep",
        nargs="+",
        default=[],
        metavar="COLUMN",
        help="columns of DATA to copy into the output, e.g. an id",
    )
    predict.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="two classes: the probability of the second class (in sorted order) at or above "
        "which it is the label",
    )
    predict.set_defaults(run=_run_predict)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``boostobj`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except CLIError as error:
        print(f"boostobj {args.command}: error: {error}", file=sys.stderr)
        return USAGE_ERROR
