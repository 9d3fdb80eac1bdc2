"""Aggregates: ε preview and exhaustion, small-cell suppression, OpenDP noise."""

from __future__ import annotations

from typing import Any

import pytest
from gateway_support import Actors, auth

from governance.credentials import Role
from governance.privacy import laplace_for, release


def _ask(
    actors: Actors,
    bank: str,
    rid: str,
    computation: str = "grade_distribution_by_town",
    **over: Any,
) -> Any:
    body = {"computation": computation, "access_request_id": rid, "epsilon": 0.4} | over
    return actors.http.post("/v1/aggregates", json=body, headers=auth(bank))


def test_preview_spends_nothing_and_exhaustion_refuses(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    rid = actors.approved(bank, "grade_distribution_by_town", epsilon=1.0)
    preview = _ask(actors, bank, rid, preview=True).json()
    assert (
        preview["preview"],
        preview["cost"],
        preview["epsilon_remaining"],
        preview["cells"],
    ) == (True, 0.4, 1.0, None)
    assert _ask(actors, bank, rid, preview=True).json()["epsilon_remaining"] == 1.0
    first = _ask(actors, bank, rid).json()
    assert first["epsilon_remaining"] == pytest.approx(0.6)
    assert _ask(actors, bank, rid).json()["epsilon_remaining"] == pytest.approx(0.2)
    preview = _ask(actors, bank, rid, preview=True).json()
    assert preview["sufficient"] is False
    r = _ask(actors, bank, rid)
    assert (r.status_code, r.json()["reason"]) == (403, "budget_exhausted")
    assert _ask(actors, bank, rid, epsilon=0.2).status_code == 200
    assert actors.http.get(f"/v1/access-requests/{rid}", headers=auth(bank)).json()[
        "epsilon_spent"
    ] == pytest.approx(1.0)


def test_small_cells_are_suppressed_and_the_rest_noised(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    rid = actors.approved(bank, "grade_distribution_by_town", epsilon=5.0)
    body = _ask(actors, bank, rid, epsilon=2.0).json()
    truth = {
        (g["town"], g["code"]): n
        for g, n in actors.http.app.state.gateway.aggregates.counts(  # type: ignore[attr-defined]
            "grade_distribution_by_town", {}
        )
    }
    assert any(n < 10 for n in truth.values()) and any(n >= 10 for n in truth.values())
    for cell in body["cells"]:
        true = truth[(cell["group"]["town"], cell["group"]["code"])]
        assert cell["suppressed"] == (true < 10)
        assert (cell["count"] is None) == cell["suppressed"]
        if not cell["suppressed"]:
            assert abs(cell["count"] - true) <= 20  # discrete Laplace, scale 0.5
    assert "subject" not in str(body) and body["mechanism"].startswith("opendp")


def test_village_distribution_needs_its_parameter(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    rid = actors.approved(bank, "grade_distribution_by_village", epsilon=2.0)
    r = _ask(actors, bank, rid, "grade_distribution_by_village")
    assert (r.status_code, r.json()["reason"]) == (422, "parameters_mismatch")
    r = _ask(actors, bank, rid, "grade_distribution_by_village", parameters={"town": "T01"})
    assert r.status_code == 200
    assert all(c["group"]["village"].startswith("T01") for c in r.json()["cells"])


def test_negative_records_by_town_and_year(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    rid = actors.approved(bank, "negative_records_by_town_year", epsilon=3.0)
    r = _ask(actors, bank, rid, "negative_records_by_town_year", epsilon=3.0)
    assert r.status_code == 200, r.text
    years = {c["group"]["year"] for c in r.json()["cells"]}
    assert years and years <= set(range(2021, 2027))


def test_a_score_approval_does_not_answer_aggregates(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    rid = actors.approved(bank)
    r = _ask(actors, bank, rid)
    assert (r.status_code, r.json()["reason"]) == (403, "wrong_computation")


def test_release_is_the_opendp_discrete_laplace_with_the_declared_cost() -> None:
    assert laplace_for(0.5, 6).map(6) <= 0.5
    cells = [({"g": i}, n) for i, n in enumerate([3, 9, 10, 500])]
    out = release(cells, epsilon=1.0, sensitivity=1, min_cell=10)
    assert [c.suppressed for c in out] == [True, True, False, False]
    noisy = [release(cells, epsilon=0.5, sensitivity=1, min_cell=10)[3].count for _ in range(50)]
    assert len(set(noisy)) > 1 and all(c is not None and c >= 0 for c in noisy)
