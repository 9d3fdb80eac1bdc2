"""Aggregates: ε preview and exhaustion, every declared cell noised, suppression on the noisy
count, OpenDP noise."""

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
    approval = actors.http.get(f"/v1/access-requests/{rid}", headers=auth(bank)).json()
    assert approval["epsilon_spent"] == pytest.approx(1.0)
    assert approval["used"] == 3  # three releases; the refused one used no quota unit


def test_every_cell_is_noised_and_only_small_noisy_counts_are_suppressed(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    rid = actors.approved(bank, "grade_distribution_by_town", epsilon=5.0)
    body = _ask(actors, bank, rid, epsilon=2.0).json()
    gateway = actors.http.app.state.gateway  # type: ignore[attr-defined]
    computation = gateway.catalogue.get("grade_distribution_by_town")
    truth = {(g["town"], g["code"]): n for g, n in gateway.aggregates.counts(computation, {})}
    assert [(c["group"]["town"], c["group"]["code"]) for c in body["cells"]] == list(truth)
    for cell in body["cells"]:
        assert (cell["count"] is None) == cell["suppressed"]
        if not cell["suppressed"]:
            assert cell["count"] >= 10  # released only when the noisy count reaches min_cell
            true = truth[(cell["group"]["town"], cell["group"]["code"])]
            assert abs(cell["count"] - true) <= 20  # discrete Laplace, scale 0.5
    assert "subject" not in str(body) and body["mechanism"].startswith("opendp")


def test_village_distribution_needs_its_parameter(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    rid = actors.approved(bank, "grade_distribution_by_village", epsilon=2.0, scope={"town": "T01"})
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
    cells = [({"g": i}, n) for i, n in enumerate([0, 3, 10, 500])]
    out = release(cells, epsilon=1.0, sensitivity=1, min_cell=10)
    assert [c.group for c in out] == [{"g": i} for i in range(4)]  # empty groups too
    assert out[3].suppressed is False and out[3].count is not None and out[3].count > 400
    noisy = [release(cells, epsilon=0.5, sensitivity=1, min_cell=10)[3].count for _ in range(50)]
    assert len(set(noisy)) > 1 and all(c is not None and c >= 0 for c in noisy)


def test_suppression_reads_the_noisy_count_not_the_true_one() -> None:
    """A true count at the threshold is sometimes released and sometimes suppressed (scale 2:
    each outcome has probability about 0.4, so 200 draws show both)."""
    at_threshold = [({"g": 0}, 10)]
    flags = {release(at_threshold, epsilon=0.5, sensitivity=1, min_cell=10)[0].suppressed
             for _ in range(200)}  # fmt: skip
    assert flags == {True, False}


@pytest.mark.parametrize(
    "over",
    [{"access_request_id": "aa_" + "0" * 18}, {"computation": "1" * 18}],
    ids=["request-id", "computation"],
)
def test_a_value_shaped_like_an_id_number_is_refused_as_invalid(
    actors: Actors, over: dict[str, str]
) -> None:
    """Found by the schemathesis run: a well-formed id holding 18 digits made the audit
    entry refuse itself (no entry may carry an ID number), and the gateway answered 503. Such
    a value is not an id the gateway issues: 422, and the request is logged."""
    _, bank = actors.token(Role.BANK)
    r = _ask(actors, bank, "aa_" + "ab" * 12, **over)
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith("invalid-request")


def test_the_core_records_a_hostile_id_as_malformed(actors: Actors) -> None:
    """Behind the edge, too: `release_aggregate` and `score_subject` record a caller's id or
    name in the audit context only if it has the shape of one (no 17-digit run), so the
    refusal is logged instead of the entry refusing itself."""
    from governance import AggregateQuery, Principal, ScoreQuery, release_aggregate, score_subject
    from governance.errors import PolicyDenied

    services = actors.http.app.state.gateway  # type: ignore[attr-defined]
    bank = Principal(Role.BANK, client_id=actors.token(Role.BANK)[0])
    hostile = "aa_" + "0" * 18
    context: dict[str, Any] = {}
    query = AggregateQuery("9" * 18, hostile, {}, 0.1, preview=True)
    with pytest.raises(PolicyDenied):
        release_aggregate(services, bank, query, context)
    assert context == {"computation": "(malformed)", "access_request": "(malformed)"}
    context = {}
    asked = ScoreQuery(actors.world.ids[0], "1" * 18, hostile, "cs_" + "1" * 20)
    with pytest.raises(PolicyDenied):  # on the test client's event loop, as the route does
        actors.http.portal.call(score_subject, services, bank, asked, context, "req_" + "ab" * 10)  # type: ignore[union-attr]
    assert set(context.values()) == {"(malformed)"}
