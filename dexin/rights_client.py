"""The residents' rights over HTTP, for the command line (`dexin rights …`): each function
takes an ``httpx.Client`` bound to the gateway and a bearer token, calls one route of
``query_gateway.routes.rights`` and returns its answer, or raises `RightsRefused` with the
problem's machine reason (never the body)."""

from __future__ import annotations

from typing import Any


class RightsRefused(Exception):
    """The gateway refused: ``status`` and the problem's ``reason``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"refused ({status} {reason})")
        self.status, self.reason = status, reason


def _checked(response: Any) -> Any:
    if response.status_code >= 400:
        try:
            reason = str(response.json().get("reason") or "")
        except ValueError:
            reason = ""
        raise RightsRefused(response.status_code, reason or "unknown")
    return response


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def report(http: Any, token: str, *, pdf: bool = False, lang: str = "zh") -> bytes:
    """The resident's credit report: its JSON document, or the PDF."""
    path = "/v1/me/report.pdf" if pdf else "/v1/me/report"
    r = _checked(http.get(path, params={"lang": lang}, headers=_auth(token)))
    return bytes(r.content)


def statement(http: Any, token: str, record: dict[str, Any], text: str, short: str) -> Any:
    body = {"record": record, "text": text, "short": short}
    return _checked(http.post("/v1/me/statements", json=body, headers=_auth(token))).json()


def ask_review(http: Any, token: str, ask: str) -> Any:
    return _checked(http.post("/v1/me/reviews", json={"ask": ask}, headers=_auth(token))).json()


def review_queue(http: Any, token: str) -> Any:
    return _checked(http.get("/v1/reviews", headers=_auth(token))).json()


def decide_review(
    http: Any, token: str, review: str, outcome: str, note: str, dispute: str | None
) -> Any:
    body: dict[str, Any] = {"outcome": outcome, "note": note}
    if dispute:
        body["dispute"] = dispute
    path = f"/v1/reviews/{review}/outcome"
    return _checked(http.post(path, json=body, headers=_auth(token))).json()
