"""Errors raised by the audit package.

A small hierarchy, caught by class, never by message::

    MerkleError                  anything wrong with a Merkle tree request or proof
    ├── OutOfRangeError          an index or tree size outside the tree (fields: index, size)
    ├── HashSizeError            a hash that is not a SHA-256 digest (field: length)
    └── ProofError               a proof that does not prove the claim
        ├── ProofLengthError     wrong number of hashes (fields: expected, actual)
        └── RootMismatchError    the proof leads to another root (fields: expected,
                                 calculated, size)

``str(exc)`` is a fixed sentence per class, so that it can be shown to anyone; the details
(hashes, sizes) live in the fields, for the audit trail.
"""

from typing import ClassVar

__all__ = [
    "HashSizeError",
    "MerkleError",
    "OutOfRangeError",
    "ProofError",
    "ProofLengthError",
    "RootMismatchError",
]


class MerkleError(Exception):
    """Base class of every error raised by ``audit.merkle``."""

    message: ClassVar[str] = "Merkle tree error"

    def __init__(self) -> None:
        super().__init__(self.message)


class OutOfRangeError(MerkleError):
    """An index or size does not fit the tree: ``index`` must be in ``[0, size)``.

    For consistency requests ``index`` is the old size and ``size`` the new size
    (or the number of leaves available).
    """

    message = "index or tree size out of range"

    def __init__(self, index: int, size: int) -> None:
        super().__init__()
        self.index = index
        self.size = size


class HashSizeError(MerkleError):
    """A leaf hash, root or proof element is not 32 bytes long (``length`` is what it was)."""

    message = "hash is not a 32-byte SHA-256 digest"

    def __init__(self, length: int) -> None:
        super().__init__()
        self.length = length


class ProofError(MerkleError):
    """A proof failed verification; the subclasses say how."""

    message = "Merkle proof does not verify"


class ProofLengthError(ProofError):
    """The proof has ``actual`` hashes where the tree shape requires ``expected``."""

    message = "Merkle proof has the wrong number of hashes"

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__()
        self.expected = expected
        self.actual = actual


class RootMismatchError(ProofError):
    """The root ``calculated`` from the proof differs from the ``expected`` (claimed) root.

    ``size`` is the size of the tree whose root did not match, which tells the old tree
    from the new one in a consistency check.
    """

    message = "calculated Merkle root does not match the expected root"

    def __init__(self, expected: bytes, calculated: bytes, size: int) -> None:
        super().__init__()
        self.expected = expected
        self.calculated = calculated
        self.size = size
