"""Input checks shared by every loss: parameters at construction, arrays at each call."""

from __future__ import annotations

import math
from numbers import Real
from typing import Any


def check_open_interval(name: str, value: Any, low: float = 0.0, high: float = 1.0) -> float:
    """Return ``value`` as a float, or raise ValueError unless ``low < value < high``."""
    if not isinstance(value, Real) or isinstance(value, bool) or not low < float(value) < high:
        raise ValueError(f"{name} must be a float in ({low:g}, {high:g}), got {value!r}")
    return float(value)


def check_positive(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise ValueError unless it is finite and > 0."""
    if (
        not isinstance(value, Real)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def check_non_negative(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise ValueError unless it is finite and >= 0."""
    if (
        not isinstance(value, Real)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value`` unless it is not one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_labels(xp: Any, y: Any, binary: bool) -> None:
    """Raise ValueError for NaN/inf labels, or labels outside {0, 1} when ``binary``."""
    if not bool(xp.all(xp.isfinite(y))):
        raise ValueError("y_true contains NaN or infinite values")
    if binary and not bool(xp.all((y == 0) | (y == 1))):
        raise ValueError("y_true must contain only the labels 0 and 1 for a binary loss")


def check_sample_weight(xp: Any, sample_weight: Any, shape: tuple[int, ...]) -> None:
    """Raise ValueError unless weights are finite, non-negative and one per sample."""
    if tuple(sample_weight.shape) != shape:
        raise ValueError(f"sample_weight has shape {tuple(sample_weight.shape)}, expected {shape}")
    if not bool(xp.all(xp.isfinite(sample_weight))) or bool(xp.any(sample_weight < 0)):
        raise ValueError("sample_weight must be finite and non-negative")
