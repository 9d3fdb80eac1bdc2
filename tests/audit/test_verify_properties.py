"""Properties: every proof the log emits verifies; a flipped bit in an entry, proof or root
fails."""

from __future__ import annotations

import pytest
from audit_builders import ORIGIN, entry, fill
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.entrycheck import fast_index, reference_check
from audit.errors import EntryError, MerkleError
from audit.log import AuditLog
from audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from audit.note import NoteSigner

SIZE = 70


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> AuditLog:
    opened = AuditLog.open(tmp_path_factory.mktemp("log"), NoteSigner.generate(ORIGIN))
    fill(opened, 0, SIZE)
    yield opened  # type: ignore[misc]
    opened.close()


def _flip(data: bytes, bit: int) -> bytes:
    bit %= len(data) * 8
    return data[: bit // 8] + bytes([data[bit // 8] ^ (1 << bit % 8)]) + data[bit // 8 + 1 :]


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_every_inclusion_proof_verifies_and_every_flip_fails(
    log: AuditLog, data: st.DataObject
) -> None:
    size = data.draw(st.integers(1, SIZE))
    index = data.draw(st.integers(0, size - 1))
    entry, proof, root = log.entry(index), log.inclusion_proof(index, size), log.root(size)
    verify_inclusion(leaf_hash(entry), index, size, proof, root)
    bit = data.draw(st.integers(0, 10**6))
    with pytest.raises(MerkleError):
        verify_inclusion(leaf_hash(_flip(entry, bit)), index, size, proof, root)
    with pytest.raises(MerkleError):
        verify_inclusion(leaf_hash(entry), index, size, proof, _flip(root, bit))
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:k], _flip(proof[k], bit), *proof[k + 1 :]]
        with pytest.raises(MerkleError):
            verify_inclusion(leaf_hash(entry), index, size, bad, root)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_every_consistency_proof_verifies_and_every_flip_fails(
    log: AuditLog, data: st.DataObject
) -> None:
    new = data.draw(st.integers(1, SIZE))
    old = data.draw(st.integers(1, new))
    proof, old_root, new_root = log.consistency_proof(old, new), log.root(old), log.root(new)
    verify_consistency(old, new, proof, old_root, new_root)
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(MerkleError):
        verify_consistency(old, new, proof, _flip(old_root, bit), new_root)
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        with pytest.raises(MerkleError):
            verify_consistency(
                old, new, [*proof[:k], _flip(proof[k], bit), *proof[k + 1 :]], old_root, new_root
            )


_TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=30)


@st.composite
def _entries(draw: st.DrawFn) -> bytes:
    optional = st.none() | _TEXT
    fields = {
        "actor": draw(_TEXT), "role": draw(_TEXT), "action": draw(_TEXT),
        "request_id": draw(_TEXT), "decision": draw(st.sampled_from(["allow", "deny"])),
        "computation": draw(optional), "purpose": draw(optional), "reason": draw(optional),
        "access_request": draw(optional), "consent": draw(optional),
        "subject": draw(st.none() | st.sampled_from(["ab" * 16, "0" * 64])),
        "result_digest": draw(st.none() | st.just("cd" * 32)),
    }  # fmt: skip
    try:
        return entry(0, **fields).encode(draw(st.integers(0, 10**7)))
    except EntryError:
        return entry(0).encode(3)


@settings(max_examples=400, deadline=None)
@given(_entries(), st.integers(0, 10**5), st.sampled_from(["keep", "flip", "cut", "dup"]))
def test_the_fast_entry_check_never_accepts_what_the_reference_rejects(
    data: bytes, position: int, mutation: str
) -> None:
    original = fast_index(data)
    assert original is not None and reference_check(None, original, data) is None
    at = position % len(data)
    mutated = {
        "keep": data,
        "flip": data[:at] + bytes([data[at] ^ (1 << position % 8)]) + data[at + 1 :],
        "cut": data[:at] + data[at + 1 :],
        "dup": data[:at] + data[at : at + 1] * 2 + data[at + 1 :],
    }[mutation]
    index = fast_index(mutated)
    if index is not None:
        assert reference_check(None, index, mutated) is None
