"""The model spec: the shipped version loads, its identity ignores layout, and a bad spec is
refused with an error naming the problem."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from typing import Any

import pytest

from credit_model import errors
from credit_model.spec import DEFAULT_SPEC, ModelSpec, parse_spec
from vault.registry import Registry

Doc = dict[str, Any]


@pytest.fixture
def document() -> Doc:
    return tomllib.loads(DEFAULT_SPEC.read_text(encoding="utf-8"))


def _feature(doc: Doc, fid: str) -> Doc:
    return next(f for f in doc["features"] if f["id"] == fid)


def test_the_shipped_spec_loads(spec: ModelSpec) -> None:
    assert spec.ref == "wuweitu@1"
    assert [d.id for d in spec.dimensions] == [
        "moral_review", "law_abiding", "honesty", "volunteering", "virtue"]  # fmt: skip
    assert len(spec.digest) == 32
    assert spec.points.scale == 110 and spec.points.qualifying == 80


def test_the_digest_ignores_comments_and_order_of_keys(
    document: Doc, registry: Registry, spec: ModelSpec
) -> None:
    reordered = {k: document[k] for k in reversed(list(document))}
    reordered["features"] = [dict(reversed(list(f.items()))) for f in document["features"]]
    assert parse_spec(reordered, registry).digest == spec.digest


def test_any_change_of_a_weight_changes_the_digest(
    document: Doc, registry: Registry, spec: ModelSpec
) -> None:
    _feature(document, "vo_hours")["points"] = 0.31
    assert parse_spec(document, registry).digest != spec.digest


Mutation = Callable[[Doc], None]


def _set(path: list[Any], value: Any) -> Mutation:
    def apply(doc: Doc) -> None:
        node: Any = doc
        for key in path[:-1]:
            node = (
                _feature(doc, key)
                if isinstance(key, str) and key.startswith(("mr_", "vo_", "ho_", "la_", "vi_"))
                else node[key]
            )
        node[path[-1]] = value

    return apply


BAD_SPECS: list[tuple[str, Mutation, type[errors.SpecError], str]] = [
    ("unknown-table", _set(["vo_hours", "table"], "volunteering_hours"), errors.UnknownTableError, "volunteering_hours"),
    ("unknown-column", _set(["vo_hours", "value"], "minutes"), errors.UnknownColumnError, "minutes"),
    ("unknown-date-column", _set(["vo_hours", "date"], "when"), errors.UnknownColumnError, "when"),
    ("identifier-column", _set(["vo_hours", "value"], "id_number"), errors.ColumnTypeError, "id_number"),
    ("text-summed", _set(["vo_hours", "value"], "activity"), errors.ColumnTypeError, "activity"),
    ("weights-off", _set(["dimensions", 0, "weight"], 0.3), errors.WeightsError, "1.05"),
    ("bands-overlap", _set(["bands", 1, "min"], 89.0), errors.BandsError, "overlap"),
    ("bands-gap", _set(["bands", 1, "max"], 99.0), errors.BandsError, "gap"),
    ("bands-short", _set(["bands", 0, "max"], 105.0), errors.BandsError, "cover"),
    ("credit-below-qualifying", _set(["bands", 3, "credit_line"], 1000), errors.BandsError, "qualifying"),
    ("credit-out-of-order", _set(["bands", 1, "credit_line"], 400000), errors.BandsError, "more credit"),
    ("enum-value", _set(["mr_poor_reviews", "where"], [{"column": "rating", "op": "=", "value": "awful"}]), errors.SpecError, "awful"),
    ("weight-key", _set(["mr_good_reviews", "weights"], [{"column": "level", "map": {"county": 1.0}}]), errors.SpecError, "county"),
    ("unknown-dimension", _set(["vo_hours", "dimension"], "kindness"), errors.SpecError, "kindness"),
    ("repeated-reason", _set(["vo_blood", "reason", "code"], "VO01"), errors.SpecError, "VO01"),
    ("reserved-no-score-code", _set(["vo_blood", "reason", "code"], "NS01"), errors.SpecError, "NS01"),
    ("negative-weight", _set(["mr_good_reviews", "weights"], [{"column": "level", "map": {"city": -1.0}}]), errors.SpecError, "negative"),
    ("zero-cap", _set(["vo_hours", "cap"], 0), errors.SpecError, "cap"),
    ("sum-without-value", _set(["vo_hours", "value"], None), errors.SpecError, "value"),
    ("unknown-field", _set(["vo_hours", "bonus"], 1), errors.SpecError, "bonus"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "mutate", "error", "named"), BAD_SPECS, ids=[b[0] for b in BAD_SPECS]
)
def test_a_bad_spec_is_refused_naming_the_problem(
    document: Doc,
    registry: Registry,
    name: str,
    mutate: Mutation,
    error: type[errors.SpecError],
    named: str,
) -> None:
    doc = copy.deepcopy(document)
    if name == "sum-without-value":
        del _feature(doc, "vo_hours")["value"]
    else:
        mutate(doc)
    with pytest.raises(error) as caught:
        parse_spec(doc, registry)
    assert named in str(caught.value)
    assert caught.value.where


def test_a_spec_that_is_not_toml_is_refused(tmp_path: Any) -> None:
    from credit_model.spec import load_spec

    path = tmp_path / "broken.toml"
    path.write_text("[model\nid = 1", encoding="utf-8")
    with pytest.raises(errors.SpecError, match="not valid TOML"):
        load_spec(path)
