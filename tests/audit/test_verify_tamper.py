"""Tampering with an export makes verify fail and name the problem."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from audit_builders import World

from audit.anchor import InMemoryAnchorer
from audit.cosign import WitnessPolicy
from audit.errors import VerificationError
from audit.export import load_export
from audit.policy import ApprovalRecord, ConsentRecord, RecordedPolicy
from audit.verify import Trust, Verdict, verify_snapshot


def _verify(world: World, export: Path, **kwargs: object) -> Verdict:
    trust = Trust(log_key=world.signer.verifier())
    return verify_snapshot(load_export(export), trust, anchorer=world.anchorer, **kwargs)  # type: ignore[arg-type]


def _lines(export: Path) -> list[bytes]:
    return (export / "entries.jsonl").read_bytes().splitlines(keepends=True)


def _rewrite(export: Path, change: Callable[[list[bytes]], list[bytes]]) -> None:
    (export / "entries.jsonl").write_bytes(b"".join(change(_lines(export))))


def _fails(world: World, export: Path, **kwargs: object) -> VerificationError:
    with pytest.raises(VerificationError) as info:
        _verify(world, export, **kwargs)
    return info.value


def test_the_untouched_export_verifies(world: World, export_dir: Path) -> None:
    verdict = _verify(world, export_dir)
    assert verdict.entries == 130 and verdict.checkpoints == [40, 100, 130]
    assert verdict.cosigned == [100, 130] and set(verdict.anchored) == {100, 130}
    assert not verdict.policy_checked


def _edit(lines: list[bytes]) -> list[bytes]:
    lines[57] = lines[57].replace(b'"decision":"allow"', b'"decision":"deny"')
    return lines


@pytest.mark.parametrize(
    ("change", "check", "entry"),
    [
        (_edit, "leaf", 57),
        (lambda lines: lines[:20] + lines[21:], "entry-order", 20),
        (lambda lines: [*lines[:20], lines[20], *lines[20:]], "entry-order", 21),
        (lambda lines: [*lines[:30], lines[31], lines[30], *lines[32:]], "entry-order", 30),
        (lambda lines: [*lines, lines[-1]], "uncovered", 130),
        (lambda lines: lines[:120], "checkpoint-size", None),
        (lambda lines: [*lines[:5], b"{not json}\n", *lines[6:]], "entry", 5),
    ],
    ids=["edit", "delete", "insert", "reorder", "append", "truncate", "garbage"],
)
def test_entry_tampering_is_named(
    world: World,
    export_dir: Path,
    change: Callable[[list[bytes]], list[bytes]],
    check: str,
    entry: int | None,
) -> None:
    _rewrite(export_dir, change)
    problem = _fails(world, export_dir)
    assert (problem.check, problem.entry) == (check, entry)
    if check == "checkpoint-size":
        assert problem.checkpoint == 130


def test_an_edit_with_recomputed_leaves_is_caught_at_the_checkpoint(
    world: World, export_dir: Path
) -> None:
    _rewrite(export_dir, _edit)
    (export_dir / "leaves.bin").unlink()
    problem = _fails(world, export_dir)
    assert (problem.check, problem.checkpoint) == ("checkpoint-root", 100)
    assert "[40, 100)" in problem.detail


def test_a_non_canonical_entry_is_named(world: World, export_dir: Path) -> None:
    _rewrite(
        export_dir, lambda lines: [*lines[:3], lines[3].replace(b'"v":1', b'"v": 1'), *lines[4:]]
    )
    assert _fails(world, export_dir).check in ("entry-canonical", "leaf")


def test_a_swapped_checkpoint_is_named(world: World, export_dir: Path) -> None:
    cps = export_dir / "checkpoints"
    a, b = cps / f"{40:020d}.note", cps / f"{100:020d}.note"
    tmp = cps / "swap"
    shutil.move(a, tmp)
    shutil.move(b, a)
    shutil.move(tmp, b)
    problem = _fails(world, export_dir)
    assert (problem.check, problem.checkpoint) == ("checkpoint", 40)


def test_a_checkpoint_signed_by_another_key_is_named(world: World, export_dir: Path) -> None:
    from audit.checkpoint import Checkpoint, SignedCheckpoint
    from audit.note import NoteSigner

    path = export_dir / "checkpoints" / f"{100:020d}.note"
    cp = SignedCheckpoint.parse(path.read_bytes()).checkpoint
    path.write_text(
        Checkpoint(cp.origin, cp.size, cp.root).sign(NoteSigner.generate(cp.origin)).render()
    )
    problem = _fails(world, export_dir)
    assert (problem.check, problem.checkpoint) == ("checkpoint-signature", 100)


def test_a_tampered_cosignature_bundle_is_named(world: World, export_dir: Path) -> None:
    path = export_dir / "cosignatures" / f"{130:020d}.json"
    doc = json.loads(path.read_bytes())
    doc["size"] = 100
    (export_dir / "cosignatures" / f"{100:020d}.json").write_text(json.dumps(doc))
    problem = _fails(world, export_dir)
    assert (problem.check, problem.checkpoint) == ("cosignature", 100)


def test_an_anchor_that_differs_is_named(world: World, export_dir: Path) -> None:
    anchorer = InMemoryAnchorer(world.anchorer.policy, dict(world.anchorer.anchors))
    root = next(r for r, (size, _) in anchorer.anchors.items() if size == 130)
    anchorer.anchors[root] = (130, b"\x00" * 32)
    trust = Trust(log_key=world.signer.verifier())
    with pytest.raises(VerificationError) as info:
        verify_snapshot(load_export(export_dir), trust, anchorer=anchorer)
    assert (info.value.check, info.value.checkpoint) == ("anchor", 130)


def test_untrusted_witnesses_are_refused(world: World, export_dir: Path) -> None:
    trust = Trust(
        log_key=world.signer.verifier(), witnesses=WitnessPolicy(1, frozenset({b"\x01" * 48}))
    )
    with pytest.raises(VerificationError) as info:
        verify_snapshot(load_export(export_dir), trust, anchorer=world.anchorer)
    assert info.value.check == "cosignature"


def test_without_anchors_nothing_is_claimed(world: World, export_dir: Path) -> None:
    trust = Trust(log_key=world.signer.verifier())
    with pytest.raises(VerificationError):
        verify_snapshot(load_export(export_dir), trust)
    verdict = verify_snapshot(load_export(export_dir), trust, require_anchor=False)
    assert not verdict.anchors_checked and verdict.anchored == {}


def _policy(valid_until: dt.datetime) -> RecordedPolicy:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    approvals = {
        f"apr-{i}": ApprovalRecord(f"apr-{i}", start, valid_until, "bank:yuyao-rural")
        for i in range(3)
    }
    consents = {f"con-{i}": ConsentRecord(f"con-{i}", f"{i:032x}", start) for i in range(5)}
    return RecordedPolicy(approvals, consents)


def test_the_access_policy_check(world: World, export_dir: Path) -> None:
    assert _verify(
        world, export_dir, policy=_policy(dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    ).policy_checked
    expired = _policy(dt.datetime(2026, 11, 1, 8, 1, tzinfo=dt.UTC))  # 60 s after the first entry
    problem = _fails(world, export_dir, policy=expired)
    assert (problem.check, problem.entry) == ("policy", 60)


def test_worker_processes_name_the_same_first_problem(world: World, export_dir: Path) -> None:
    assert _verify(world, export_dir, workers=2).entries == 130
    _rewrite(export_dir, _edit)
    problem = _fails(world, export_dir, workers=2)
    assert (problem.check, problem.entry) == ("leaf", 57)
