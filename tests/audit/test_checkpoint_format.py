"""C2SP signed notes and tlog-checkpoints: the spec's vector, format, signatures, history."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from audit_builders import ORIGIN

from audit.checkpoint import Checkpoint, CheckpointHistory, SignedCheckpoint
from audit.errors import CheckpointError, NoteError, SignatureError
from audit.merkle import EMPTY_ROOT
from audit.note import Note, NoteSigner, NoteVerifier, parse_note

SPEC = json.loads(
    (Path(__file__).parent / "vectors" / "notes" / "c2sp-spec-example.json").read_text()
)


def test_the_spec_example_verifies() -> None:
    verifier = NoteVerifier.from_vkey(SPEC["vkey"])
    note = parse_note(SPEC["note"])
    assert note.text == SPEC["text"]
    verifier.verify(note)
    assert verifier.vkey() == SPEC["vkey"]
    assert note.render() == SPEC["note"]


def test_the_spec_example_with_a_changed_text_fails() -> None:
    note = parse_note(SPEC["note"].replace("example", "exemplary", 1))
    with pytest.raises(SignatureError):
        NoteVerifier.from_vkey(SPEC["vkey"]).verify(note)


def test_unknown_keys_are_ignored_and_a_note_without_a_known_one_fails() -> None:
    other = NoteSigner.generate("example.com/foo")  # same name, another key
    note = parse_note(SPEC["note"])
    signed = note.with_signature(other.sign(note.text))
    NoteVerifier.from_vkey(SPEC["vkey"]).verify(signed)
    with pytest.raises(SignatureError):
        other.verifier().verify(note)


@pytest.mark.parametrize(
    "text",
    [
        "no blank line\n— a AAAAAAA=\n",
        "text\n\n- a AAAAAAAA\n",
        "text\n\n— a+b AAAAAAAA\n",
        "t\x01\n\n— a AAAAAAAA\n",
    ],
    ids=["no-blank-line", "hyphen-not-em-dash", "plus-in-name", "control-character"],
)
def test_malformed_notes_are_rejected(text: str) -> None:
    with pytest.raises(NoteError):
        parse_note(text)


def test_checkpoint_text_is_the_c2sp_body() -> None:
    cp = Checkpoint(
        ORIGIN, 20852163, base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    )
    assert cp.text() == f"{ORIGIN}\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert Checkpoint.from_text(cp.text()) == cp


@pytest.mark.parametrize(
    "text",
    [
        f"{ORIGIN}\n012\nAAAA\n",
        f"{ORIGIN}\n1\nAAAA\n",
        f"{ORIGIN}\n1\n",
        f"\n1\n{base64.b64encode(EMPTY_ROOT).decode()}\n",
        f"{ORIGIN}\n1\n{base64.b64encode(EMPTY_ROOT).decode()}\nextension\n",
    ],
    ids=["leading-zero", "short-root", "missing-root", "empty-origin", "extension-line"],
)
def test_malformed_checkpoints_are_rejected(text: str) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.from_text(text)


def test_a_signed_checkpoint_round_trips_and_a_flipped_bit_fails() -> None:
    signer = NoteSigner.generate(ORIGIN)
    signed = Checkpoint(ORIGIN, 5, EMPTY_ROOT).sign(signer)
    again = SignedCheckpoint.parse(signed.render())
    again.verify(signer.verifier())
    sig = again.note.signatures[0]
    flipped = bytes([sig.signature[0] ^ 1]) + sig.signature[1:]
    forged = Note(again.note.text, (type(sig)(sig.name, sig.key_id, flipped),))
    with pytest.raises(SignatureError):
        SignedCheckpoint(again.checkpoint, forged).verify(signer.verifier())


def test_the_log_key_must_be_named_after_the_origin() -> None:
    with pytest.raises(CheckpointError):
        Checkpoint(ORIGIN, 1, EMPTY_ROOT).sign(NoteSigner.generate("elsewhere.example/log"))


def test_history_keeps_one_root_per_size(tmp_path: Path) -> None:
    signer = NoteSigner.generate(ORIGIN)
    history = CheckpointHistory(tmp_path)
    history.store(Checkpoint(ORIGIN, 3, EMPTY_ROOT).sign(signer))
    history.store(Checkpoint(ORIGIN, 3, EMPTY_ROOT).sign(signer))  # the same again is fine
    with pytest.raises(CheckpointError):
        history.store(Checkpoint(ORIGIN, 3, b"\x01" * 32).sign(signer))
    assert history.sizes() == [3]


def test_key_files_are_private(tmp_path: Path) -> None:
    signer = NoteSigner.generate(ORIGIN)
    signer.save(tmp_path / "log.key")
    assert (tmp_path / "log.key").stat().st_mode & 0o777 == 0o600
    assert NoteSigner.load(tmp_path / "log.key").public_key == signer.public_key
    (tmp_path / "log.key").chmod(0o644)
    with pytest.raises(NoteError):
        NoteSigner.load(tmp_path / "log.key")
