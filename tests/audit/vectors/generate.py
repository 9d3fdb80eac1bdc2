"""Write the Merkle proof vectors: ``{inclusion,consistency}/<case>/<mutation>.json``.

Run ``.venv/bin/python tests/audit/vectors/generate.py`` from the repository root; the
output is deterministic and ``tests/audit/test_merkle_vectors.py`` checks that the files
on disk are exactly what this script writes.

Each file holds one call of a verifier in ``audit.merkle`` (hashes in lowercase hex) and
``want_error``: ``null`` when the call must return, else the ``audit.errors`` class it must
raise. The mutation named by the file decides the error; it is declared here from the
shape of the tree, never by running the verifier.
"""

import json
from pathlib import Path
from typing import Any

from audit import merkle

HERE = Path(__file__).resolve().parent
KINDS = ("inclusion", "consistency")

# The RFC 6962 leaves of certificate-transparency's tests (see test_merkle_known_answers).
CT_DATA = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243",
           "5051525354555657", "606162636465666768696a6b6c6d6e6f"]]  # fmt: skip

Mutations = dict[str, tuple[dict[str, Any], str | None]]


def ct_leaves(size: int) -> list[bytes]:
    return [merkle.leaf_hash(data) for data in CT_DATA[:size]]


def counter_leaves(size: int) -> list[bytes]:
    return [merkle.leaf_hash(b"dexin vector entry %d" % i) for i in range(size)]


def inclusion_cases() -> dict[str, tuple[str, list[bytes], int]]:
    """Case name -> (description of the leaves, leaf hashes, leaf index)."""
    return {
        "1": ("certificate-transparency leaves", ct_leaves(8), 5),
        "2": ("certificate-transparency leaves", ct_leaves(5), 1),
        "3": ("a single certificate-transparency leaf", ct_leaves(1), 0),
        "4": ("certificate-transparency leaves, last of an odd tree", ct_leaves(3), 2),
        "5": ("generated leaves", counter_leaves(1337), 1000),
    }


def consistency_cases() -> dict[str, tuple[str, list[bytes], int]]:
    """Case name -> (description of the leaves, leaf hashes of the new tree, old size)."""
    return {
        "1": ("certificate-transparency leaves", ct_leaves(8), 6),
        "2": ("certificate-transparency leaves", ct_leaves(5), 2),
        "3": ("certificate-transparency leaves, old size a power of two", ct_leaves(8), 1),
        "4": ("certificate-transparency leaves, empty old tree", ct_leaves(8), 0),
        "5": ("certificate-transparency leaves, equal sizes", ct_leaves(8), 8),
        "6": ("generated leaves", counter_leaves(1337), 1000),
    }


def flip(value: bytes) -> bytes:
    """The value with its lowest bit flipped."""
    return value[:-1] + bytes([value[-1] ^ 1])


def inclusion_mutations(leaves: list[bytes], index: int) -> Mutations:
    size, proof, root = len(leaves), merkle.inclusion_proof(leaves, index), merkle.root(leaves)
    good = {"leaf_hash": leaves[index], "index": index, "size": size, "proof": proof, "root": root}
    # Leaves 2j and 2j + 1 are siblings, so the other one has a path of the same length.
    sibling_error = "RootMismatchError" if index ^ 1 < size else "OutOfRangeError"
    out: Mutations = {
        "happy-path": (good, None),
        "wrong-leaf": ({**good, "leaf_hash": merkle.leaf_hash(b"not logged")}, "RootMismatchError"),
        "wrong-index": ({**good, "index": index ^ 1}, sibling_error),
        "wrong-root": ({**good, "root": flip(root)}, "RootMismatchError"),
        "index-out-of-range": ({**good, "index": size}, "OutOfRangeError"),
        "extra-hash": ({**good, "proof": [*proof, root]}, "ProofLengthError"),
        "short-hash": ({**good, "leaf_hash": leaves[index][:-1]}, "HashSizeError"),
    }
    if proof:
        out["truncated-proof"] = ({**good, "proof": proof[:-1]}, "ProofLengthError")
        wrong = [*proof[:-1], flip(proof[-1])]
        out["wrong-proof-hash"] = ({**good, "proof": wrong}, "RootMismatchError")
    return out


def consistency_mutations(leaves: list[bytes], old_size: int) -> Mutations:
    new_size, proof = len(leaves), merkle.consistency_proof(leaves, old_size)
    old_root, new_root = merkle.root(leaves[:old_size]), merkle.root(leaves)
    good = {"old_size": old_size, "new_size": new_size, "proof": proof,
            "old_root": old_root, "new_root": new_root}  # fmt: skip
    out: Mutations = {
        "happy-path": (good, None),
        "wrong-old-root": ({**good, "old_root": flip(old_root)}, "RootMismatchError"),
        "old-size-too-large": ({**good, "old_size": new_size + 1}, "OutOfRangeError"),
        "extra-hash": ({**good, "proof": [*proof, new_root]}, "ProofLengthError"),
        "short-hash": ({**good, "new_root": new_root[:-1]}, "HashSizeError"),
    }
    if old_size > 0:  # the empty tree is a prefix of every tree: nothing binds the new root
        out["wrong-new-root"] = ({**good, "new_root": flip(new_root)}, "RootMismatchError")
    if proof:
        out["truncated-proof"] = ({**good, "proof": proof[:-1]}, "ProofLengthError")
        wrong = [flip(proof[0]), *proof[1:]]
        out["wrong-proof-hash"] = ({**good, "proof": wrong}, "RootMismatchError")
    return out


def to_json(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list):
        return [to_json(item) for item in value]
    return value


def render() -> dict[str, str]:
    """Every vector file: path relative to this folder -> its exact text."""
    files = {}
    for kind in KINDS:
        cases = inclusion_cases() if kind == "inclusion" else consistency_cases()
        mutate = inclusion_mutations if kind == "inclusion" else consistency_mutations
        for case, (leaves_description, leaves, position) in cases.items():
            for mutation, (call, want_error) in mutate(leaves, position).items():
                vector = {
                    "description": f"{kind} proof, {leaves_description}; mutation: {mutation}",
                    **{key: to_json(value) for key, value in call.items()},
                    "want_error": want_error,
                }
                files[f"{kind}/{case}/{mutation}.json"] = json.dumps(vector, indent=2) + "\n"
    return files


def on_disk() -> dict[str, str]:
    """The vector files currently in this folder, in the shape ``render`` returns."""
    paths = sorted(path for kind in KINDS for path in (HERE / kind).glob("*/*.json"))
    return {path.relative_to(HERE).as_posix(): path.read_text() for path in paths}


def main() -> None:
    files = render()
    for stale in set(on_disk()) - set(files):
        (HERE / stale).unlink()
    for name, text in files.items():
        (HERE / name).parent.mkdir(parents=True, exist_ok=True)
        (HERE / name).write_text(text)
    print(f"wrote {len(files)} vectors under {HERE}")


if __name__ == "__main__":
    main()
