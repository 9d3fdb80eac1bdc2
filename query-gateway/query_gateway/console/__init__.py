"""The web console, served by the gateway under ``/console`` (zh-CN first, English on request).

Officers sign in with a password and a TOTP code, residents through the development identity
provider, auditors like officers. Every page is a `ConsoleRoute`: it declares its policy like
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
        officer_pages,
        subject_pages,
    )

    app.state.console_settings = settings
    for module in (auth_pages, officer_pages, subject_pages, auditor_pages, dashboard_pages):
        app.router.routes.extend(module.routes.routes)
