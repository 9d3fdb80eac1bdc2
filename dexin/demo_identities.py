"""The demo's people: a bank client and a provider (each holding its own key), three
officers, an auditor and the provider's staff (password + TOTP), residents and a witness.
Written once to ``$DEXIN_HOME/demo-identities.json`` (mode 0600) and reused.

Clients and console accounts touch only the control plane and the console's account file;
the witness's key is registered on the ledger by the caller (which owns the ledger then).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import secrets
from pathlib import Path
from typing import Any

from audit import Witness
from credit_model import ModelSpec
from dexin import demo_idp
from dexin.admin import create_keyed_client
from dexin.app import ledger_secret, load_or_create_log_key, opened_control_plane, witness_dir
from dexin.settings import Settings
from governance import ConsoleAccounts, ControlPlane, Role, derive_keys, score_person
from vault import Vault

OFFICERS = ("officer-wang", "officer-li", "officer-zhang")
PROVIDER = "court"  # the demo's provider client (a registry provider id)
PROVIDER_STAFF = "court-staff-wu"  # its staff's console account (the dispute inbox)
WITNESS = "demo-witness"
SUBJECTS = 3


def identities_path(settings: Settings) -> Path:
    return settings.home / "demo-identities.json"


def load(settings: Settings) -> dict[str, Any] | None:
    path = identities_path(settings)
    return json.loads(path.read_text()) if path.exists() else None


def _password() -> str:
    return secrets.token_urlsafe(12)


def scored_residents(vault: Vault, spec: ModelSpec, data: Path, n: int) -> list[str]:
    """ID numbers of the first ``n`` residents the model scores (demo knowledge only)."""
    found: list[str] = []
    now = dt.datetime.now(dt.UTC)
    with (data / "public_security" / "residents.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            result = score_person(vault, spec, row["id_number"], computed_at=now, release=None)
            if result.status == "scored":
                found.append(row["id_number"])
            if len(found) == n:
                break
    return found


def create(settings: Settings, subjects: list[str]) -> dict[str, Any]:
    """Make every identity and write the file (0600). Returns what was written."""
    with opened_control_plane(settings) as control:  # its connections closed (a long process)
        return _create(settings, subjects, control)


def _create(settings: Settings, subjects: list[str], control: ControlPlane) -> dict[str, Any]:
    console = ConsoleAccounts(
        settings.console_accounts, derive_keys(ledger_secret(settings)).token_key
    )
    # the bank's own key (the demo's shortcut: a bank generates it itself and hands over only
    # the public JWKS); the gateway stores only the public half
    bank, key_file = create_keyed_client(control, Role.BANK,
                                         "余姚农商银行 Yuyao Rural Commercial Bank",
                                         settings.home / "keys")  # fmt: skip
    people: dict[str, Any] = {
        "bank": {"name": bank.name, "client_id": bank.client_id, "key_file": str(key_file)},
        "officers": [],
        "subjects": [{"id_number": s} for s in subjects],
    }
    ensure_provider(settings, people, control)
    ensure_provider_staff(settings, people, console)
    demo_idp.ensure_residents(people)
    for name in OFFICERS:
        client = control.create_client(Role.OFFICER, name)
        password = _password()
        totp = console.create(name, Role.OFFICER, client.client_id, password)
        people["officers"].append({"username": name, "password": password, "totp_secret": totp,
                                   "client_id": client.client_id,
                                   "client_secret": client.client_secret})  # fmt: skip
    auditor = control.create_client(Role.AUDITOR, "auditor-zhou")
    password = _password()
    totp = console.create("auditor-zhou", Role.AUDITOR, auditor.client_id, password)
    people["auditor"] = {"username": "auditor-zhou", "password": password, "totp_secret": totp,
                         "client_id": auditor.client_id, "client_secret": auditor.client_secret}  # fmt: skip
    state = witness_dir(settings, WITNESS)
    witness = Witness(state) if (state / "witness.json").exists() else Witness.init(
        state, WITNESS, load_or_create_log_key(settings).verifier()
    )  # fmt: skip
    people["witness"] = {"name": WITNESS, "state": str(state), "vkey": witness.public.vkey()}
    write(settings, people)
    return people


def ensure_provider(
    settings: Settings, people: dict[str, Any], control: ControlPlane | None = None
) -> bool:
    """The court as a provider holding its own key (issue 17: it signs what it sends; the
    gateway stores only the public half); True if it had to be made (an identities file
    from before providers signed)."""
    if "provider" in people:
        return False
    if control is None:
        with opened_control_plane(settings) as opened:
            return ensure_provider(settings, people, opened)
    made, key_file = create_keyed_client(control, Role.PROVIDER, PROVIDER,
                                         settings.home / "keys")  # fmt: skip
    people["provider"] = {"name": PROVIDER, "client_id": made.client_id, "key_file": str(key_file)}
    return True


def ensure_provider_staff(
    settings: Settings, people: dict[str, Any], console: ConsoleAccounts | None = None
) -> bool:
    """A console account (password + TOTP) for the court's staff, bound to the court's client:
    they follow its disputes' clocks in the console; answers stay signed with the court's key.
    True if it had to be made (an identities file from before the provider inbox)."""
    if "provider_staff" in people or "provider" not in people:
        return False
    console = console or ConsoleAccounts(
        settings.console_accounts, derive_keys(ledger_secret(settings)).token_key
    )
    password = _password()
    totp = console.create(PROVIDER_STAFF, Role.PROVIDER_STAFF, people["provider"]["client_id"],
                          password)  # fmt: skip
    people["provider_staff"] = {"username": PROVIDER_STAFF, "password": password,
                                "totp_secret": totp}  # fmt: skip
    return True


def write(settings: Settings, people: dict[str, Any]) -> None:
    path = identities_path(settings)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(people, f, ensure_ascii=False, indent=2)
    os.chmod(path, 0o600)


def how_to_log_in(people: dict[str, Any], url: str) -> list[str]:
    lines = [f"console: {url}/console   (English: {url}/console/login?lang=en)"]
    for o in people["officers"]:
        lines.append(f"officer  {o['username']}  password {o['password']}  TOTP secret "
                     f"{o['totp_secret']}  (current code: dexin demo --totp {o['username']})")  # fmt: skip
    a = people["auditor"]
    lines.append(f"auditor  {a['username']}  password {a['password']}  TOTP secret "
                 f"{a['totp_secret']}  (current code: dexin demo --totp {a['username']})")  # fmt: skip
    for s in people["subjects"]:
        lines.append(f"resident {s.get('login', '?')}  password {s.get('password', '?')}  at the "
                     f"identity provider (console: 居民登录 → sign in at the identity provider); "
                     f"ID number {s['id_number']}")  # fmt: skip
    b = people["bank"]
    lines.append(f"bank     client_id {b['client_id']}  key {b['key_file']} (private_key_jwt + "
                 f"DPoP: dexin_client.DexinClient.from_key_file('{url}', key_file))")  # fmt: skip
    if "provider" in people:
        p = people["provider"]
        lines.append(f"provider {p['name']}  client_id {p['client_id']}  key {p['key_file']} "
                     f"(signed contributions: dexin_client.DexinClient.contribute)")  # fmt: skip
    if "provider_staff" in people:
        st = people["provider_staff"]
        lines.append(f"staff    {st['username']}  password {st['password']}  TOTP secret "
                     f"{st['totp_secret']}  (the court's dispute inbox; current code: "
                     f"dexin demo --totp {st['username']})")  # fmt: skip
    lines.append(f"witness  {people['witness']['name']}  state {people['witness']['state']}")
    return lines
