"""The credit report as HTML (the console's page and the printable document) and as PDF.

The page and the PDF render the same body (`templates/_report_body.html`); the printable
document inlines the console's stylesheet so Chromium loads nothing (`query_gateway.pdf`).
A PDF is counted as a report only once it exists: if Chromium is missing the request is
refused before counting, and a PDF that fails takes its count back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from governance import (
    DIMENSIONS,
    FREE_PER_YEAR,
    CreditReport,
    Services,
    ServiceUnavailable,
    consent_rows,
    issue_report,
    void_issue,
)
from query_gateway.console.charts import radar
from query_gateway.console.i18n import translate
from query_gateway.console.rights_words import rights_translate
from query_gateway.pdf import PdfUnavailable, chromium, render_pdf

CSS = (Path(__file__).parent / "static" / "console.css").read_text(encoding="utf-8")


def report_context(gw: Services, report: CreditReport, lang: str) -> dict[str, Any]:
    """What the report's templates need besides the report."""
    score = report.score
    chart = None
    if score["dimensions"] is not None:
        labels = [translate(lang, f"dimension.{d}") for d in DIMENSIONS]
        chart = radar(labels, [score["dimensions"][d] for d in DIMENSIONS])
    return {"report": report, "chart": chart, "dimensions": DIMENSIONS,
            "names": {c.client_id: c.name for c in gw.control.clients()},
            "consents": consent_rows(report), "free_per_year": FREE_PER_YEAR,
            "r": lambda key: rights_translate(lang, key)}  # fmt: skip


def print_html(gw: Services, report: CreditReport, lang: str) -> str:
    """The self-contained printable report."""
    from query_gateway.console.route import TEMPLATES

    return TEMPLATES.get_template("report_print.html").render(
        t=lambda key: translate(lang, key), lang=lang, css=CSS, interactive=False, csrf="",
        **report_context(gw, report, lang),
    )  # fmt: skip


def report_pdf(
    gw: Services, subject: str, request_id: str, context: dict[str, Any], lang: str
) -> bytes:
    """Issue the resident's report as a PDF; `ServiceUnavailable`
    (``pdf_renderer_unavailable``) if Chromium is missing or fails (then nothing is counted)."""
    try:
        chromium()
    except PdfUnavailable:
        raise ServiceUnavailable("pdf_renderer_unavailable") from None
    report = issue_report(gw, subject, "pdf", request_id, context)
    try:
        return render_pdf(print_html(gw, report, lang))
    except PdfUnavailable:
        void_issue(gw, report.issue.id)
        raise ServiceUnavailable("pdf_renderer_unavailable") from None
