"""The 五维图 morality-credit model: the declarative spec, feature SQL generated from it, the
pure scorecard, results, reason codes and validation metrics. It reads features the vault
computes and knows nothing of HTTP or chains. Other packages import the names below from
``credit_model`` itself.

Names resolve lazily (PEP 562), so importing the package costs nothing until a name is
used: the CLI answers ``--help`` at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from credit_model.compiled import household_sql as household_sql
    from credit_model.compiled import run_sql as run_sql
    from credit_model.compiled import score_sql as score_sql
    from credit_model.compiled import scores_view_sql as scores_view_sql
    from credit_model.compiled import verdict_sql as verdict_sql
    from credit_model.errors import FeaturesMissingError as FeaturesMissingError
    from credit_model.errors import FeaturesStaleError as FeaturesStaleError
    from credit_model.errors import ReleaseMismatchError as ReleaseMismatchError
    from credit_model.feature_store import FeatureStore as FeatureStore
    from credit_model.features import FeatureRow as FeatureRow
    from credit_model.features import counted_predicate as counted_predicate
    from credit_model.features import feature_sql as feature_sql
    from credit_model.report import Backtest as Backtest
    from credit_model.report import Population as Population
    from credit_model.report import ReportInputs as ReportInputs
    from credit_model.report import write_report as write_report
    from credit_model.results import HouseholdScore as HouseholdScore
    from credit_model.results import ReleaseRef as ReleaseRef
    from credit_model.results import ScoreResult as ScoreResult
    from credit_model.scorecard import NOT_REGISTERED as NOT_REGISTERED
    from credit_model.scorecard import feature_points as feature_points
    from credit_model.scorecard import no_score_reason as no_score_reason
    from credit_model.scorecard import not_scored as not_scored
    from credit_model.scorecard import score as score
    from credit_model.scorecard import score_household as score_household
    from credit_model.spec import DEFAULT_SPEC as DEFAULT_SPEC
    from credit_model.spec import ModelSpec as ModelSpec
    from credit_model.spec import load_spec as load_spec

_WHERE = {
    "Backtest": "credit_model.report",
    "DEFAULT_SPEC": "credit_model.spec",
    "FeatureRow": "credit_model.features",
    "FeatureStore": "credit_model.feature_store",
    "FeaturesMissingError": "credit_model.errors",
    "FeaturesStaleError": "credit_model.errors",
    "HouseholdScore": "credit_model.results",
    "ModelSpec": "credit_model.spec",
    "NOT_REGISTERED": "credit_model.scorecard",
    "Population": "credit_model.report",
    "ReleaseMismatchError": "credit_model.errors",
    "ReleaseRef": "credit_model.results",
    "ReportInputs": "credit_model.report",
    "ScoreResult": "credit_model.results",
    "counted_predicate": "credit_model.features",
    "feature_points": "credit_model.scorecard",
    "feature_sql": "credit_model.features",
    "household_sql": "credit_model.compiled",
    "load_spec": "credit_model.spec",
    "no_score_reason": "credit_model.scorecard",
    "not_scored": "credit_model.scorecard",
    "run_sql": "credit_model.compiled",
    "score": "credit_model.scorecard",
    "score_household": "credit_model.scorecard",
    "score_sql": "credit_model.compiled",
    "scores_view_sql": "credit_model.compiled",
    "verdict_sql": "credit_model.compiled",
    "write_report": "credit_model.report",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value
