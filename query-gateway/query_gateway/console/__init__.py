"""The web console, served by the gateway under ``/console`` (zh-CN first, English on request).

Officers sign in with a passkey (or a password and a TOTP code, which cannot vote), residents
at the authority's OpenID Connect provider (`resident_pages`), auditors like officers. Every page is a `ConsoleRoute`: it declares its policy like
an API route and is audited like one. `install(app, settings)` adds the pages to an app that
`create_app` built.
"""

from __future__ import annotations

from fastapi import FastAPI

from dexin.app import Settings


def install(app: FastAPI, settings: Settings) -> None:
    from query_gateway.console import (
        auditor_pages,
        auth_pages,
        dashboard_pages,
        dispute_pages,
        officer_pages,
        passkey_pages,
        provider_pages,
        resident_pages,
        rights_pages,
        subject_pages,
    )

    app.state.console_settings = settings
    for module in (auth_pages, officer_pages, subject_pages, auditor_pages, dashboard_pages,
                   passkey_pages, resident_pages, rights_pages, dispute_pages,
                   provider_pages):  # fmt: skip
        app.router.routes.extend(module.routes.routes)
