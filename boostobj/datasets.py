"""Synthetic data sets for the demo, the examples and the README, generated on the spot.

Each generator is seeded and returns its ground truth beside the noisy observations, so a
model can be scored against what it should have learned: the noiseless regression
function, the true conditional quantiles, the true class probabilities. Nothing is
downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit
from scipy.stats import norm


@dataclass(frozen=True)
class SyntheticData:
    """Features ``X``, observed targets ``y`` and the ground truth ``truth``.

    ``truth`` is the noiseless regression function (regression data) or the probability
    of class 1 (classification data). ``feature_names`` name the columns of ``X``.
    """

    X: np.ndarray
    y: np.ndarray
    truth: np.ndarray
    feature_names: list[str] = field(default_factory=list)

    def frame(self, target: str = "y") -> Any:
        """The features and the target as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        frame = pd.DataFrame(self.X, columns=self.feature_names)
        frame[target] = self.y
        return frame


def _names(n_features: int) -> list[str]:
    return [f"x{i}" for i in range(n_features)]


def heavy_tailed_regression(
    n_samples: int = 2000,
    n_features: int = 6,
    outlier_fraction: float = 0.05,
    random_state: int | None = 0,
) -> SyntheticData:
    """Regression with heavy-tailed noise and one-sided gross outliers.

    ``truth = 10 sin(π x0 x1) + 20 (x2 - ½)² + 10 x3 + 5 x4`` (Friedman's first function;
    further features are noise), ``x ~ U(0, 1)``. The noise is Student-t with 2 degrees
    of freedom (infinite variance), and a fraction ``outlier_fraction`` of the targets is
    replaced by a spike ``truth + 20 + |N(0, 20²)|``, like a sensor glitch or a
    data-entry error: it biases a squared-error fit upwards, a robust loss ignores it.
    """
    if n_features < 5:
        raise ValueError(f"n_features must be >= 5, got {n_features}")
    rng = np.random.default_rng(random_state)
    X = rng.uniform(size=(n_samples, n_features))
    truth = (
        10 * np.sin(np.pi * X[:, 0] * X[:, 1])
        + 20 * (X[:, 2] - 0.5) ** 2
        + 10 * X[:, 3]
        + 5 * X[:, 4]
    )
    y = truth + rng.standard_t(df=2, size=n_samples)
    spikes = rng.uniform(size=n_samples) < outlier_fraction
    y[spikes] = truth[spikes] + 20 + np.abs(rng.normal(scale=20, size=int(spikes.sum())))
    return SyntheticData(X, y, truth, _names(n_features))


#: Range of the informative feature of ``heteroscedastic_regression``.
HETEROSCEDASTIC_RANGE = (0.0, 10.0)


def heteroscedastic_mean(x0: np.ndarray) -> np.ndarray:
    """Conditional mean of ``heteroscedastic_regression`` given its feature ``x0``."""
    return 5 * np.sin(x0) + x0


def heteroscedastic_scale(x0: np.ndarray) -> np.ndarray:
    """Conditional standard deviation of ``heteroscedastic_regression`` given ``x0``."""
    return 0.3 + 0.25 * x0


def heteroscedastic_quantile(x0: np.ndarray, alpha: float) -> np.ndarray:
    """The true conditional ``alpha``-quantile of ``heteroscedastic_regression``."""
    return heteroscedastic_mean(x0) + norm.ppf(alpha) * heteroscedastic_scale(x0)


def heteroscedastic_regression(
    n_samples: int = 2000, n_noise_features: int = 2, random_state: int | None = 0
) -> SyntheticData:
    """Regression whose noise grows with the informative feature ``x0``.

    ``y = 5 sin(x0) + x0 + (0.3 + 0.25 x0) ε``, ``ε ~ N(0, 1)``, ``x0 ~ U(0, 10)``, plus
    ``n_noise_features`` uninformative ``U(0, 10)`` features. A good 90% interval is
    narrow on the left and wide on the right; ``heteroscedastic_quantile`` gives the
    true bounds.
    """
    rng = np.random.default_rng(random_state)
    X = rng.uniform(*HETEROSCEDASTIC_RANGE, size=(n_samples, 1 + n_noise_features))
    truth = heteroscedastic_mean(X[:, 0])
    y = truth + heteroscedastic_scale(X[:, 0]) * rng.standard_normal(n_samples)
    return SyntheticData(X, y, truth, _names(1 + n_noise_features))


def imbalanced_classification(
    n_samples: int = 4000,
    n_features: int = 8,
    prevalence: float = 0.05,
    random_state: int | None = 0,
) -> SyntheticData:
    """Binary classification with rare positives and known class probabilities.

    ``logit = 2 x0 - 1.5 x1² + x2 x3 + 1.5 sin(2 x4) + b``, ``x ~ N(0, 1)``, further
    features are noise; the intercept ``b`` is solved for so that the mean probability
    equals ``prevalence``. ``truth`` holds the probabilities, ``y ~ Bernoulli(truth)``.
    """
    if n_features < 5:
        raise ValueError(f"n_features must be >= 5, got {n_features}")
    if not 0 < prevalence < 1:
        raise ValueError(f"prevalence must be in (0, 1), got {prevalence}")
    rng = np.random.default_rng(random_state)
    X = rng.standard_normal((n_samples, n_features))
    signal = 2 * X[:, 0] - 1.5 * X[:, 1] ** 2 + X[:, 2] * X[:, 3] + 1.5 * np.sin(2 * X[:, 4])
    intercept = brentq(lambda b: expit(signal + b).mean() - prevalence, -50.0, 50.0)
    truth = expit(signal + intercept)
    y = (rng.uniform(size=n_samples) < truth).astype(np.float64)
    return SyntheticData(X, y, truth, _names(n_features))
