"""The Python launcher: stable keys and subjects across restarts, private files, clear errors."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest
from identity_support import Flow, authorize, browser, make_config, verified_id_token

from dexin.identity_provider import (
    IdentityProviderConfig,
    IdentityProviderConfigError,
    IdentityProviderStartError,
    IdpResident,
    RunningIdentityProvider,
    run_identity_provider,
    write_config,
)


def _sub(idp: RunningIdentityProvider, config: IdentityProviderConfig) -> str:
    client, resident = config.clients[0], config.residents[0]
    flow = Flow.start(idp, client, "openid", "n")
    with browser() as user_agent:
        done = authorize(
            user_agent, flow.url, client.redirect_uris[0], (resident.login, resident.password)
        )
    token = flow.token(done)
    claims = verified_id_token(token["id_token"], idp.jwks(), idp.issuer, client.client_id, "n")
    return str(claims["sub"])


def test_keys_and_subjects_survive_a_restart(tmp_path: Path) -> None:
    config = make_config()
    runs = []
    for _ in range(2):
        with run_identity_provider(config, tmp_path) as idp:
            served = httpx.get(idp.discovery["jwks_uri"], trust_env=False).json()
            assert served == idp.jwks()
            runs.append((served, _sub(idp, config)))
    assert runs[0] == runs[1]


def test_files_are_private_and_hold_no_plain_password(tmp_path: Path) -> None:
    config = make_config()
    with run_identity_provider(config, tmp_path / "idp"):
        pass
    directory = tmp_path / "idp"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    written = (directory / "idp.json").read_text(encoding="utf-8")
    log = (directory / "idp.log").read_text(encoding="utf-8")
    for resident in config.residents:
        assert resident.password not in written
        assert json.loads(written)["residents"][0]["password_hash"].startswith("scrypt$")
        for secret in (resident.password, resident.id_number, resident.login):
            assert secret not in log
    assert "ready http://127.0.0.1:" in log
    assert '"event":"stopping","signal":"SIGTERM"' in log  # stopped cleanly, not killed


def test_a_server_that_cannot_start_names_its_log(tmp_path: Path) -> None:
    config = IdentityProviderConfig(clients=(), residents=(), host="192.0.2.1", port=9)
    with (
        pytest.raises(IdentityProviderStartError) as raised,
        run_identity_provider(config, tmp_path, timeout=10),
    ):
        pass
    assert raised.value.log_path == tmp_path / "idp.log"
    assert str(tmp_path / "idp.log") in str(raised.value)


def test_inconsistent_configs_are_refused(tmp_path: Path) -> None:
    resident = IdpResident("a", "same", "pw", "330281000000000000")
    with pytest.raises(IdentityProviderConfigError):
        IdentityProviderConfig(clients=(), residents=(resident, resident))
    with pytest.raises(IdentityProviderConfigError):
        IdentityProviderConfig(clients=(), residents=(), issuer="https://idp.example")
    with pytest.raises(IdentityProviderConfigError):
        IdentityProviderConfig(clients=(), residents=(), id_number_claim="id number")
    write_config(make_config(), tmp_path)
    rsa = IdentityProviderConfig(clients=(), residents=(), signing_alg="RS256")
    with pytest.raises(IdentityProviderConfigError):
        write_config(rsa, tmp_path)  # the kept keys are ES256: never swapped silently
