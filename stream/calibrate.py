"""`healthscore calibrate`: fit the policy's weights to outcomes and write a candidate policy.

Readings come from a backtest replay of the history under the current policy. Weights are fitted
per segment on a training set (rows at the training cutoff, or half the customers when there is
one cutoff) and measured on a validation set (rows at a later cutoff, or the other half), against
the current policy on the same rows. The result is a complete policy YAML carrying what it was
fitted on and what it reached; it is never written over an existing file without `--force`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from scoring import evaluation as evl
from scoring.decay import DAY
from scoring.fit import Fit, as_weights, fit_logistic, retarget_frequency, score_with
from scoring.policy import Policy, parse_policy
from stream.backtest import BacktestError, Row

MIN_CLASS = 30  # churners and stayers a segment needs for weights of its own


def _in_train(customer_id: str) -> bool:
    """A stable half of the customers (by a digest of the id) for single-cutoff histories."""
    return hashlib.blake2b(customer_id.encode(), digest_size=2).digest()[0] % 2 == 0


def split(
    table: Sequence[Row], train_cutoff: float, validate_cutoff: float
) -> tuple[list[Row], list[Row], str]:
    """Training and validation rows, and how they were split."""
    if train_cutoff < validate_cutoff:
        train = [r for r in table if r.reading.cutoff == train_cutoff]
        valid = [r for r in table if r.reading.cutoff == validate_cutoff]
        return train, valid, "by time"
    train = [r for r in table if _in_train(r.customer_id)]
    valid = [r for r in table if not _in_train(r.customer_id)]
    return train, valid, "by customer (one cutoff: half the customers each)"


def _typical(rows: Sequence[Row], policy: Policy, segment: str | None) -> float:
    """The median daily activity of these customers with any activity (each read back from its
    frequency signal against the typical activity of its own segment)."""
    daily = sorted(
        policy.usage.typical_for(r.segment) * f / (100.0 - f)
        for r in rows
        if 0.0 < (f := r.reading.signals.get("usage.frequency", 0.0)) < 100.0
    )
    return daily[len(daily) // 2] if daily else policy.usage.typical_for(segment)


def _signals(row: Row, policy: Policy, typical: float) -> dict[str, float]:
    out = dict(row.reading.signals)
    if "usage.frequency" in out:
        out["usage.frequency"] = retarget_frequency(
            out["usage.frequency"], policy.usage.typical_for(row.segment), typical
        )
    return out


Auc = tuple[float | None, tuple[float, float] | None]


@dataclass
class SegmentFit:
    segment: str  # "default" for the pooled fit
    fit: Fit
    typical: float


@dataclass
class Calibrated:
    """What calibrate found: the fits, the validation measures and the policy document."""

    fits: list[SegmentFit]
    split: str
    train_rows: int
    validate_rows: int
    default_auc: Auc = (None, None)
    calibrated_auc: Auc = (None, None)
    document: dict[str, Any] | None = None


def calibrate(
    table: Sequence[Row],
    policy: Policy,
    base_document: dict[str, Any],
    *,
    train_cutoff: float,
    validate_cutoff: float,
    horizon: float,
    sources: Sequence[str],
    draws: int = 500,
) -> Calibrated:
    """Fit per segment (pooled as `default`; own weights for segments with at least
    `MIN_CLASS` churners and stayers in training), validate, build the policy document."""
    train, valid, how = split(table, train_cutoff, validate_cutoff)
    for name, part in (("training", train), ("validation", valid)):
        churners = sum(r.churned for r in part)
        if churners == 0 or churners == len(part):
            raise BacktestError(
                f"the {name} set has {len(part)} customers and {churners} churners: it needs "
                "both churners and stayers (choose other cutoffs or a longer history)"
            )
    fits: dict[str, SegmentFit] = {}
    pooled_typical = _typical(train, policy, None)
    fits["default"] = SegmentFit(
        "default",
        fit_logistic(
            [_signals(r, policy, pooled_typical) for r in train], [r.churned for r in train]
        ),
        pooled_typical,
    )
    for segment in sorted({r.segment for r in train if r.segment}):
        rows = [r for r in train if r.segment == segment]
        churners = sum(r.churned for r in rows)
        if min(churners, len(rows) - churners) < MIN_CLASS:
            continue
        typical = _typical(rows, policy, segment)
        fits[segment] = SegmentFit(
            segment,
            fit_logistic([_signals(r, policy, typical) for r in rows], [r.churned for r in rows]),
            typical,
        )

    def fitted(row: Row) -> SegmentFit:
        return fits.get(row.segment or "default", fits["default"])

    churned = [r.churned for r in valid]
    default_scores = [r.reading.score for r in valid]
    calibrated_scores = [
        score_with(fitted(r).fit, _signals(r, policy, fitted(r).typical)) for r in valid
    ]
    probabilities = [
        fitted(r).fit.probability(_signals(r, policy, fitted(r).typical)) for r in valid
    ]
    result = Calibrated(
        fits=list(fits.values()),
        split=how,
        train_rows=len(train),
        validate_rows=len(valid),
    )
    result.default_auc = (
        evl.churn_auc(default_scores, churned),
        evl.auc_interval(default_scores, churned, draws=draws),
    )
    result.calibrated_auc = (
        evl.churn_auc(calibrated_scores, churned),
        evl.auc_interval(calibrated_scores, churned, draws=draws),
    )
    brier = sum((p - c) ** 2 for p, c in zip(probabilities, churned, strict=True)) / len(valid)
    result.document = _document(
        base_document,
        policy,
        result,
        horizon=horizon,
        train_cutoff=train_cutoff,
        validate_cutoff=validate_cutoff,
        sources=sources,
        brier=brier,
    )
    parse_policy(result.document, "the calibrated policy")  # never write an invalid policy
    return result


def _day(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).date().isoformat()


def _r(x: float) -> float:
    return round(x, 4)


def _document(
    base: dict[str, Any],
    policy: Policy,
    result: Calibrated,
    *,
    horizon: float,
    train_cutoff: float,
    validate_cutoff: float,
    sources: Sequence[str],
    brier: float,
) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(yaml.safe_dump(base))  # a deep copy
    segments = dict(doc["segments"])
    usage = dict(doc["usage"])
    segment_weights: dict[str, Any] = {}
    typical: dict[str, float] = {}
    calibration: dict[str, Any] = {}
    for sf in result.fits:
        weights = as_weights(sf.fit)
        if weights is None:
            continue
        components, signals = weights
        segments[sf.segment] = {k: _r(v) for k, v in components.items()}
        if sf.segment == "default":
            usage["weights"] = {k: _r(v) for k, v in signals.items()}
        else:
            segment_weights[sf.segment] = {k: _r(v) for k, v in signals.items()}
        typical[sf.segment] = _r(sf.typical)
        calibration[sf.segment] = {
            "horizon_days": horizon / DAY,
            "intercept": _r(sf.fit.intercept),
            "slope": _r(sf.fit.slope),
        }
    # segments without a fit of their own take the pooled one
    for name in list(segments):
        if name != "default" and name not in typical:
            segments[name] = segments["default"]
    usage["typical_daily_activity"] = typical
    if segment_weights:
        usage["segment_weights"] = segment_weights
    doc["segments"] = segments
    doc["usage"] = usage
    doc["calibration"] = calibration
    doc["version"] = f"{base.get('version', '1')}-calibrated"
    auc_d, int_d = result.default_auc
    auc_c, int_c = result.calibrated_auc
    doc["fitted"] = {
        "from": list(sources),
        "base_model": policy.model,
        "horizon_days": horizon / DAY,
        "train_cutoff": _day(train_cutoff),
        "validate_cutoff": _day(validate_cutoff),
        "split": result.split,
        "train_customers": result.train_rows,
        "validate_customers": result.validate_rows,
        "validation": {
            "auc_base_policy": None if auc_d is None else _r(auc_d),
            "auc_base_policy_interval": None if int_d is None else [_r(x) for x in int_d],
            "auc_calibrated": None if auc_c is None else _r(auc_c),
            "auc_calibrated_interval": None if int_c is None else [_r(x) for x in int_c],
            "brier_score": _r(brier),
        },
    }
    return doc


def check_target(out: Path, *, force: bool, default: Path) -> None:
    """Refuse to replace the shipped default policy or, without `force`, any existing file
    (checked before the work, and again when writing)."""
    if out.resolve() == default.resolve():
        raise BacktestError(
            f"{out} is the shipped default policy: write the candidate elsewhere and point "
            "HEALTHSCORE_POLICY_FILE (or HEALTHSCORE_SHADOW_POLICY_FILE) at it"
        )
    if out.exists() and not force:
        raise BacktestError(f"{out} exists: pass --force to replace it")


def write_policy(document: dict[str, Any], out: Path, *, force: bool, default: Path) -> None:
    """Write the policy YAML, with a header saying where it came from."""
    check_target(out, force=force, default=default)
    header = (
        "# A policy calibrated by `healthscore calibrate` on the data named under `fitted`.\n"
        "# Review the validation figures under `fitted.validation` before switching to it.\n"
    )
    out.write_text(header + yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
