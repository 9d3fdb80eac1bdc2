"""Issue 13, finding 9: aggregates release no exact fact beside the noisy ones.

Two attacks through ``POST /v1/aggregates``: reading a *missing* cell as "exactly nobody"
(every declared cell must be present, empty groups noised like the rest), and reading the
*suppression flag* as "the true count is below the minimum" (re-asking on unchanged data must
sometimes flip it, since it is decided on the noisy count).
"""

from __future__ import annotations

from typing import Any

from gateway_support import Actors, auth

from credit_model.spec import load_spec
from governance.catalogue import load_catalogue
from governance.credentials import Role

TOWNS = [f"T{i:02d}" for i in range(1, 22)]
CODES = ["A", "B", "C", "D", "E"]


def _release(actors: Actors, bank: str, rid: str, computation: str, epsilon: float) -> Any:
    body = {"computation": computation, "access_request_id": rid, "epsilon": epsilon}
    r = actors.http.post("/v1/aggregates", json=body, headers=auth(bank))
    assert r.status_code == 200, r.text
    return r.json()["cells"]


def _truth(actors: Actors) -> dict[tuple[str, str], int]:
    """The true grade counts by town, straight from the vault (a naive reference; only the
    groups somebody falls in)."""
    rows = actors.world.vault.query(
        "SELECT r.town_code, s.morality_code, count(*) FROM derived.scores s "
        "JOIN src.residents r ON r.subject = s.subject "
        "WHERE s.morality_code IS NOT NULL GROUP BY 1, 2"
    )
    found = {(str(t), str(c)): int(n) for t, c, n in rows}
    return {(t, c): found.get((t, c), 0) for t in TOWNS for c in CODES}


def test_every_declared_cell_is_released_whatever_the_data(actors: Actors) -> None:
    truth = _truth(actors)
    assert 0 in truth.values()  # the attack needs an empty group: it used to be left out
    _, bank = actors.token(Role.BANK)
    rid = actors.approved(bank, "grade_distribution_by_town", epsilon=1.0)
    cells = _release(actors, bank, rid, "grade_distribution_by_town", 1.0)
    assert [(c["group"]["town"], c["group"]["code"]) for c in cells] == [
        (t, c) for t in TOWNS for c in CODES
    ]


def test_the_negative_record_cells_are_the_towns_and_the_retention_window(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    rid = actors.approved(bank, "negative_records_by_town_year", epsilon=3.0)
    cells = _release(actors, bank, rid, "negative_records_by_town_year", 3.0)
    years = range(2021, 2027)  # the retention window of DEXIN_AS_OF=2026-11-01
    assert [(c["group"]["town"], c["group"]["year"]) for c in cells] == [
        (t, y) for t in TOWNS for y in years
    ]


def test_the_catalogues_codes_are_the_models_bands() -> None:
    bands = [b.code for b in load_spec().bands]
    for computation in ("grade_distribution_by_town", "grade_distribution_by_village"):
        assert list(load_catalogue().get(computation).domains["code"]) == bands


def test_the_suppression_flag_does_not_reveal_the_true_count(actors: Actors) -> None:
    """Ten releases of unchanged data at ε = 0.05 (scale 20): under a rule on the true count
    every flag would repeat; on the noisy count a cell near the threshold flips."""
    _, bank = actors.token(Role.BANK)
    rid = actors.approved(bank, "grade_distribution_by_town", epsilon=1.0)
    releases = [_release(actors, bank, rid, "grade_distribution_by_town", 0.05) for _ in range(10)]
    flags = [
        {(c["group"]["town"], c["group"]["code"]): c["suppressed"] for c in r} for r in releases
    ]
    flipped = [cell for cell in flags[0] if len({f[cell] for f in flags}) > 1]
    assert flipped
    small = [cell for cell, n in _truth(actors).items() if n < 10]
    assert small and any(not f[cell] for f in flags for cell in small)  # small, yet released
