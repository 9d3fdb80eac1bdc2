"""Anchors: who may write which kind, once per root, and what verification checks."""

from __future__ import annotations

import os

import pytest

from ledger import (
    AlreadyAnchoredError,
    AnchorKind,
    AnchorMismatchError,
    AnchorNotFoundError,
    ContractRevertError,
    MissingRoleError,
)
from ledger.client import Web3Ledger

GAS_TARGET = 60_000


def _h() -> bytes:
    return os.urandom(32)


def test_anchor_round_trip(ledger: Web3Ledger) -> None:
    root, digest = _h(), _h()
    receipt = ledger.anchor(AnchorKind.CONTRIBUTION, root, 1234, digest)
    anchor = ledger.get_anchor(root)
    assert anchor.kind == AnchorKind.CONTRIBUTION
    assert (anchor.size, anchor.metadata_digest) == (1234, digest)
    assert anchor.writer == ledger.identity("provider").address
    assert (anchor.block_number, anchor.block_time) == (receipt.block_number, receipt.block_time)
    assert anchor.tx_hash == receipt.tx_hash


def test_an_anchor_costs_less_than_60000_gas(ledger: Web3Ledger) -> None:
    ledger.anchor(AnchorKind.CONTRIBUTION, _h(), 1, _h())  # first of its kind sets a counter
    receipt = ledger.anchor(AnchorKind.CONTRIBUTION, _h(), 10**9, _h())
    assert receipt.gas_used <= GAS_TARGET


def test_a_root_is_anchored_once(ledger: Web3Ledger) -> None:
    root = _h()
    ledger.anchor(AnchorKind.CONTRIBUTION, root, 1, _h())
    with pytest.raises(AlreadyAnchoredError) as caught:
        ledger.anchor(AnchorKind.AUDIT_LOG, root, 1, _h())
    assert caught.value.revert_args["root"] == root


@pytest.mark.parametrize(
    ("kind", "signer"),
    [(AnchorKind.CONTRIBUTION, "gateway"), (AnchorKind.AUDIT_LOG, "provider"),
     (AnchorKind.CONSENT_LOG, "alice"), (AnchorKind.CONTRIBUTION, "admin")],
)  # fmt: skip
def test_only_the_kinds_writer_anchors(ledger: Web3Ledger, kind: AnchorKind, signer: str) -> None:
    with pytest.raises(MissingRoleError):
        ledger.anchor(kind, _h(), 1, _h(), signer=signer)


def test_default_signer_is_the_local_holder_of_the_writer_role(ledger: Web3Ledger) -> None:
    root = _h()
    ledger.anchor(AnchorKind.CONSENT_LOG, root, 7, _h())
    assert ledger.get_anchor(root).writer == ledger.identity("gateway").address


def test_model_release_anchors_only_through_release_model(ledger: Web3Ledger) -> None:
    with pytest.raises(ValueError, match="own operation"):
        ledger.anchor(AnchorKind.MODEL_RELEASE, _h(), 0, _h())
    with pytest.raises(ContractRevertError) as caught:
        ledger._transact("provider", "anchor", int(AnchorKind.MODEL_RELEASE), _h(), 0, _h())
    assert caught.value.error == "KindNotWritable"


def test_zero_root_is_refused(ledger: Web3Ledger) -> None:
    with pytest.raises(ContractRevertError) as caught:
        ledger.anchor(AnchorKind.CONTRIBUTION, bytes(32), 1, _h())
    assert caught.value.error == "InvalidAnchor"


def test_malformed_hashes_never_reach_the_chain(ledger: Web3Ledger) -> None:
    with pytest.raises(ValueError):
        ledger.anchor(AnchorKind.CONTRIBUTION, b"short", 1, _h())
    with pytest.raises(ValueError):
        ledger.anchor(AnchorKind.CONTRIBUTION, _h(), 1, b"\x00" * 31)


def test_verify_anchor_names_the_first_mismatching_field(ledger: Web3Ledger) -> None:
    root, digest = _h(), _h()
    ledger.anchor(AnchorKind.CONTRIBUTION, root, 10, digest)
    ledger.verify_anchor(root, kind=AnchorKind.CONTRIBUTION, size=10, metadata_digest=digest)
    cases = [
        ({"kind": AnchorKind.AUDIT_LOG, "size": 10, "metadata_digest": digest}, "kind"),
        ({"kind": AnchorKind.CONTRIBUTION, "size": 11, "metadata_digest": digest}, "size"),
        ({"kind": AnchorKind.CONTRIBUTION, "size": 10, "metadata_digest": _h()}, "metadata_digest"),
    ]
    for expected, field in cases:
        with pytest.raises(AnchorMismatchError) as caught:
            ledger.verify_anchor(root, **expected)  # type: ignore[arg-type]
        assert caught.value.field == field
        assert caught.value.expected == expected[field]


def test_unknown_root_is_not_found(ledger: Web3Ledger) -> None:
    with pytest.raises(AnchorNotFoundError):
        ledger.get_anchor(_h())
    with pytest.raises(AnchorNotFoundError):
        ledger.verify_anchor(_h(), kind=AnchorKind.CONTRIBUTION, size=1, metadata_digest=_h())


def test_status_counts_anchors_by_kind(ledger: Web3Ledger) -> None:
    for kind in (AnchorKind.CONTRIBUTION, AnchorKind.CONTRIBUTION, AnchorKind.AUDIT_LOG):
        ledger.anchor(kind, _h(), 1, _h())
    status = ledger.status()
    assert status.anchors == {"contribution": 2, "consent_log": 0, "audit_log": 1,
                              "model_release": 0}  # fmt: skip
    assert status.backend == ledger.backend
    assert status.height >= 1
