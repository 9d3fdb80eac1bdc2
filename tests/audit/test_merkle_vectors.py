"""The JSON vectors under vectors/: reproducible, and every verifier call ends as declared."""

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import naive_merkle as naive
import pytest

from audit import errors, merkle

VECTORS = Path(__file__).parent / "vectors"
FILES = sorted(VECTORS.glob("*/*/*.json"))


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "merkle_vectors_generate", VECTORS / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = load_generator()


def run(kind: str, vector: dict[str, Any]) -> None:
    def unhex(key: str) -> bytes:
        return bytes.fromhex(vector[key])

    proof = [bytes.fromhex(h) for h in vector["proof"]]
    if kind == "inclusion":
        index, size = vector["index"], vector["size"]
        merkle.verify_inclusion(unhex("leaf_hash"), index, size, proof, unhex("root"))
    else:
        old_size, new_size = vector["old_size"], vector["new_size"]
        old_root, new_root = unhex("old_root"), unhex("new_root")
        merkle.verify_consistency(old_size, new_size, proof, old_root, new_root)


def test_vectors_on_disk_are_what_generate_py_writes() -> None:
    assert generate.on_disk() == generate.render()
    assert len(FILES) > 50


def test_every_case_has_the_required_mutations() -> None:
    names = {path.relative_to(VECTORS).as_posix() for path in FILES}
    required = ["happy-path", "extra-hash", "truncated-proof", "wrong-proof-hash"]
    for kind, extra in [("inclusion", ["wrong-leaf", "wrong-index", "wrong-root"]),
                        ("consistency", ["wrong-old-root", "wrong-new-root"])]:  # fmt: skip
        for mutation in [*required, *extra]:
            assert f"{kind}/1/{mutation}.json" in names


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.relative_to(VECTORS).as_posix())
def test_vector(path: Path) -> None:
    vector = json.loads(path.read_text())
    kind = path.relative_to(VECTORS).parts[0]
    want = vector["want_error"]
    if want is None:
        run(kind, vector)
        return
    with pytest.raises(errors.MerkleError) as caught:
        run(kind, vector)
    assert type(caught.value).__name__ == want
    assert str(caught.value) == getattr(errors, want).message


def test_happy_paths_match_the_naive_reference() -> None:
    for case, (_, leaves, index) in generate.inclusion_cases().items():
        vector = json.loads((VECTORS / f"inclusion/{case}/happy-path.json").read_text())
        assert vector["proof"] == [h.hex() for h in naive.path(index, leaves)]
        assert vector["root"] == naive.mth(leaves).hex()
    for case, (_, leaves, old_size) in generate.consistency_cases().items():
        vector = json.loads((VECTORS / f"consistency/{case}/happy-path.json").read_text())
        want = naive.proof(old_size, leaves) if old_size > 0 else []
        assert vector["proof"] == [h.hex() for h in want]
        assert vector["old_root"] == naive.mth(leaves[:old_size]).hex()
