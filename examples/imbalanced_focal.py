"""Imbalanced binary classification with focal loss: probabilities and a tuned threshold.

5% of the rows are positive. ``BoostClassifier(loss=Focal(gamma=2))`` down-weights the
many easy negatives; ``predict_proba`` gives probabilities on both libraries. With rare
positives the default threshold of 0.5 flags almost nothing, so the threshold is chosen
on validation rows (the one with the best F1 score) and then applied to the test rows.
Logistic loss, trained and thresholded the same way, is the reference. Focal loss's
probabilities are not calibrated (it pushes them towards the middle): use it to rank
and threshold, not for the probabilities themselves.

    python examples/imbalanced_focal.py
    python examples/imbalanced_focal.py --quick      # for the tests
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.metrics import average_precision_score, f1_score, precision_recall_curve

from boostobj import BoostClassifier, Focal
from boostobj.datasets import imbalanced_classification


def best_f1_threshold(y_true: np.ndarray, probability: np.ndarray) -> float:
    """The probability threshold with the highest F1 score on ``y_true``."""
    precision, recall, thresholds = precision_recall_curve(y_true, probability)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[np.argmax(f1[:-1])])  # the last point has no threshold


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Train, choose thresholds on validation rows, print test scores; return test F1s."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="xgboost", choices=("xgboost", "lightgbm"))
    parser.add_argument("--quick", action="store_true", help="small data, few trees")
    args = parser.parse_args(argv)
    n_train, n_valid, n_test, n_trees = (
        (3000, 1500, 3000, 40) if args.quick else (10000, 5000, 10000, 200)
    )

    data = imbalanced_classification(n_train + n_valid + n_test, prevalence=0.05, random_state=0)
    X_train, y_train = data.X[:n_train], data.y[:n_train]
    X_valid, y_valid = data.X[n_train : n_train + n_valid], data.y[n_train : n_train + n_valid]
    X_test, y_test = data.X[-n_test:], data.y[-n_test:]

    print(f"{'loss':<22}{'threshold':>10}{'test F1':>9}{'F1 at 0.5':>11}{'avg prec':>10}")
    f1 = {}
    for name, loss in (("focal, gamma=2", Focal(gamma=2.0)), ("logistic", "logistic")):
        model = BoostClassifier(
            loss=loss, backend=args.backend, n_estimators=n_trees, max_depth=3, random_state=0
        )
        model.fit(X_train, y_train)
        threshold = best_f1_threshold(y_valid, model.predict_proba(X_valid)[:, 1])
        probability = model.predict_proba(X_test)[:, 1]
        f1[name] = float(f1_score(y_test, probability >= threshold))
        at_half = f1_score(y_test, probability >= 0.5, zero_division=0.0)
        ap = average_precision_score(y_test, probability)
        print(f"{name:<22}{threshold:>10.3f}{f1[name]:>9.3f}{at_half:>11.3f}{ap:>10.3f}")
    return f1


if __name__ == "__main__":
    main()
