"""Role checks: one role per account, only the admin grants, the last admin stays."""

from __future__ import annotations

import pytest

from ledger import ContractRevertError, MissingRoleError, Role
from ledger.client import Web3Ledger


def test_deployer_is_the_only_admin(ledger: Web3Ledger) -> None:
    assert ledger.role_of(ledger.identity("admin").address) == Role.ADMIN
    assert ledger.role_of(ledger.identity("alice").address) == Role.OFFICER


def test_only_the_admin_grants_roles(ledger: Web3Ledger) -> None:
    stranger = ledger.identity("auditor").address
    with pytest.raises(MissingRoleError) as caught:
        ledger._transact("alice", "grantRole", stranger, int(Role.PROVIDER))
    assert caught.value.required == "ADMIN"
    assert caught.value.account == ledger.identity("alice").address.lower()


def test_an_account_never_holds_two_roles(ledger: Web3Ledger) -> None:
    with pytest.raises(ContractRevertError) as caught:
        ledger.grant_role("alice", Role.PROVIDER)
    assert caught.value.error == "RoleConflict"
    assert ledger.role_of(ledger.identity("alice").address) == Role.OFFICER


def test_revoked_role_is_gone_and_can_be_replaced(ledger: Web3Ledger) -> None:
    ledger.revoke_role("auditor")
    assert ledger.role_of(ledger.identity("auditor").address) == Role.NONE
    ledger.grant_role("auditor", Role.PROVIDER)
    assert ledger.role_of(ledger.identity("auditor").address) == Role.PROVIDER


def test_the_last_admin_cannot_be_removed(ledger: Web3Ledger) -> None:
    with pytest.raises(ContractRevertError) as caught:
        ledger.revoke_role("admin")
    assert caught.value.error == "LastAdmin"


def test_revoking_an_officer_below_the_threshold_is_refused(ledger: Web3Ledger) -> None:
    ledger.set_approval_threshold(3)
    with pytest.raises(ContractRevertError) as caught:
        ledger.revoke_role("carol")
    assert caught.value.error == "InvalidThreshold"


def test_revoking_an_account_without_a_role_is_refused(ledger: Web3Ledger) -> None:
    ledger.revoke_role("auditor")
    with pytest.raises(ContractRevertError) as caught:
        ledger.revoke_role("auditor")
    assert caught.value.error == "NoRole"
