"""Merkle tree hashing and proofs exactly as RFC 6962 / RFC 9162 §2.1 define them, nothing else.

Hashes are SHA-256 with domain separation (RFC 9162 §2.1.1): a leaf hash is
``SHA-256(0x00 || data)``, an interior node ``SHA-256(0x01 || left || right)``, and the root of
the empty tree is ``SHA-256("")``. Leaf indices start at 0, as in RFC 9162.

Functions taking ``leaf_hashes`` expect the *leaf hashes* (``leaf_hash(entry)``), not the
entries. Verifiers return ``None`` or raise an ``audit.errors.MerkleError``; they never
return a bool.

>>> leaves = [leaf_hash(bytes([i])) for i in range(5)]
>>> tree_root = root(leaves)
>>> verify_inclusion(leaves[3], 3, 5, inclusion_proof(leaves, 3), tree_root)
>>> verify_consistency(2, 5, consistency_proof(leaves, 2), root(leaves[:2]), tree_root)
>>> verify_inclusion(leaves[2], 3, 5, inclusion_proof(leaves, 3), tree_root)
Traceback (most recent call last):
...
audit.errors.RootMismatchError: calculated Merkle root does not match the expected root
"""

from collections.abc import Sequence
from hashlib import sha256

from audit.errors import (
    HashSizeError,
    OutOfRangeError,
    ProofLengthError,
    RootMismatchError,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Frontier",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Length in bytes of every hash: leaf hashes, node hashes, roots and proof elements."""

EMPTY_ROOT = sha256(b"").digest()
"""MTH({}), the root of the empty tree (RFC 9162 §2.1.1)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

# Perfect subtrees of up to 2**16 leaves are hashed level by level in one list: fast, and
# the extra memory stays bounded however many leaves the caller passes.
_MAX_CHUNK_HEIGHT = 16


def leaf_hash(data: bytes) -> bytes:
    """Return the leaf hash ``SHA-256(0x00 || data)`` of one entry (RFC 9162 §2.1.1)."""
    return sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the interior node hash ``SHA-256(0x01 || left || right)`` (RFC 9162 §2.1.1)."""
    return sha256(_NODE_PREFIX + left + right).digest()


class Frontier:
    """An incremental Merkle tree: the roots of its maximal perfect subtrees, left to right.

    This compact range holds one hash per set bit of ``size``, so appending costs one node
    hash on average and memory stays logarithmic. ``root()`` is ``MTH`` of every leaf hash
    appended so far (RFC 9162 §2.1.1).
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """Roots of the maximal perfect subtrees, largest (leftmost) first."""
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf hash; raise ``HashSizeError`` unless it is 32 bytes."""
        _check_hash(leaf_hash)
        self._push(leaf_hash, 0)

    def extend(self, leaf_hashes: Sequence[bytes]) -> None:
        """Append leaf hashes in order, hashing aligned perfect subtrees level by level.

        Same result as calling ``append`` for each, about twice as fast. Raises
        ``HashSizeError``, adding nothing, if any hash is not 32 bytes.
        """
        for length in set(map(len, leaf_hashes)):
            _check_length(length)
        start, end = 0, len(leaf_hashes)
        while start < end:
            height = _aligned_height(self._size, end - start)
            chunk = list(leaf_hashes[start : start + (1 << height)])
            self._push(_perfect_root(chunk), height)
            start += 1 << height

    def root(self) -> bytes:
        """Return the Merkle tree hash of all leaves so far (``EMPTY_ROOT`` if none)."""
        if not self._hashes:
            return EMPTY_ROOT
        result = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            result = node_hash(left, result)
        return result

    def _push(self, subtree_root: bytes, height: int) -> None:
        # Precondition: size is a multiple of 2**height, so the subtree lands aligned and
        # merges with its left neighbours exactly as binary addition carries.
        carry = self._size >> height
        while carry & 1:
            subtree_root = node_hash(self._hashes.pop(), subtree_root)
            carry >>= 1
        self._hashes.append(subtree_root)
        self._size += 1 << height


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return MTH(D[n]) of the leaf hashes (RFC 9162 §2.1.1); ``EMPTY_ROOT`` if empty.

    Raises ``HashSizeError`` if a leaf hash is not 32 bytes. Linear time, iterative.
    """
    frontier = Frontier()
    frontier.extend(leaf_hashes)
    return frontier.root()


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """Return PATH(index, D[n]), the audit path of leaf ``index`` (RFC 9162 §2.1.3.1).

    Hashes are ordered from the leaf's sibling up to the root's child. Raises
    ``OutOfRangeError`` unless ``0 <= index < len(leaf_hashes)``. Linear time: it hashes
    the whole tree, as nothing is cached.
    """
    size = len(leaf_hashes)
    if not 0 <= index < size:
        raise OutOfRangeError(index, size)
    return [root(leaf_hashes[lo:hi]) for lo, hi in _inclusion_ranges(index, size)]


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """Return PROOF(old_size, D[n]) between the first ``old_size`` leaves and all of them.

    RFC 9162 §2.1.4.1; the proof is empty when ``old_size`` is 0 or ``n``. Raises
    ``OutOfRangeError`` unless ``0 <= old_size <= len(leaf_hashes)``.
    """
    size = len(leaf_hashes)
    if not 0 <= old_size <= size:
        raise OutOfRangeError(old_size, size)
    if old_size in (0, size):
        return []
    return [root(leaf_hashes[lo:hi]) for lo, hi in _consistency_ranges(old_size, size)]


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    RFC 9162 §2.1.3.2. Returns ``None`` on success and raises otherwise:
    ``OutOfRangeError`` unless ``0 <= index < size``; ``HashSizeError`` if any hash is not
    32 bytes; ``ProofLengthError`` if the proof has the wrong number of hashes for
    ``(index, size)``; ``RootMismatchError`` if it leads to another root.
    """
    _check_hash(leaf_hash)
    _check_hash(root)
    if not 0 <= index < size:
        raise OutOfRangeError(index, size)
    _check_proof(proof, len(_inclusion_ranges(index, size)))
    _check_root(root, _root_from_inclusion(leaf_hash, index, size, proof), size)


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> None:
    """Check that the tree with ``new_root`` extends the tree with ``old_root``.

    RFC 9162 §2.1.4.2, extended to the cases it leaves out: for ``old_size == new_size``
    the proof must be empty and the roots equal; for ``old_size == 0`` the proof must be
    empty and ``old_root`` must be ``EMPTY_ROOT``. Returns ``None`` or raises:
    ``OutOfRangeError`` unless ``0 <= old_size <= new_size``; ``HashSizeError``,
    ``ProofLengthError`` and ``RootMismatchError`` (its ``size`` names the tree) as for
    ``verify_inclusion``.
    """
    _check_hash(old_root)
    _check_hash(new_root)
    if not 0 <= old_size <= new_size:
        raise OutOfRangeError(old_size, new_size)
    if old_size in (0, new_size):
        _check_proof(proof, 0)
        _check_root(old_root, EMPTY_ROOT if old_size == 0 else new_root, old_size)
        return
    _check_proof(proof, len(_consistency_ranges(old_size, new_size)))
    old_calculated, new_calculated = _roots_from_consistency(old_size, new_size, proof, old_root)
    _check_root(old_root, old_calculated, old_size)
    _check_root(new_root, new_calculated, new_size)


def _split(width: int) -> int:
    """Return k, the largest power of two smaller than ``width`` >= 2 (RFC 9162 §2.1.1)."""
    return 1 << ((width - 1).bit_length() - 1)


def _aligned_height(size: int, remaining: int) -> int:
    """Height of the largest perfect subtree that can be appended at ``size`` leaves."""
    height = min(remaining.bit_length() - 1, _MAX_CHUNK_HEIGHT)
    if size:
        height = min(height, (size & -size).bit_length() - 1)
    return height


def _perfect_root(level: list[bytes]) -> bytes:
    """Root of a perfect subtree whose ``len(level)`` leaves is a power of two."""
    while len(level) > 1:
        pairs = zip(level[0::2], level[1::2], strict=True)
        level = [sha256(_NODE_PREFIX + left + right).digest() for left, right in pairs]
    return level[0]


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges ``[lo, hi)`` whose roots form PATH(index, D[size]), in proof order.

    Precondition: ``0 <= index < size``. Follows the recursion of RFC 9162 §2.1.3.1
    iteratively, from the root down, then reverses it.
    """
    ranges = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            lo = mid
    ranges.reverse()
    return ranges


def _consistency_ranges(old_size: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose roots form PROOF(old_size, D[size]), in proof order.

    Precondition: ``0 < old_size < size``. Iterative form of SUBPROOF (RFC 9162 §2.1.4.1);
    ``whole`` is its flag b: the old tree is still the whole of ``[0, hi)``.
    """
    ranges = []
    lo, hi, whole = 0, size, True
    while old_size != hi:
        mid = lo + _split(hi - lo)
        if old_size <= mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            lo, whole = mid, False
    if not whole:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def _root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2 steps 2-4; the caller has checked the proof's length."""
    fn, sn, result = index, size - 1, leaf
    for sibling in proof:
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    return result


def _roots_from_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes
) -> tuple[bytes, bytes]:
    """RFC 9162 §2.1.4.2 steps 2-6: the (old, new) roots the proof leads to.

    Precondition: ``0 < old_size < new_size`` and the proof's length has been checked.
    """
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    old, new = path[0], path[0]
    for node in path[1:]:
        if fn & 1 or fn == sn:
            old, new = node_hash(node, old), node_hash(node, new)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            new = node_hash(new, node)
        fn, sn = fn >> 1, sn >> 1
    return old, new


def _check_length(length: int) -> None:
    if length != HASH_SIZE:
        raise HashSizeError(length)


def _check_hash(value: bytes) -> None:
    _check_length(len(value))


def _check_proof(proof: Sequence[bytes], expected: int) -> None:
    if len(proof) != expected:
        raise ProofLengthError(expected, len(proof))
    for node in proof:
        _check_hash(node)


def _check_root(expected: bytes, calculated: bytes, size: int) -> None:
    if calculated != expected:
        raise RootMismatchError(expected, calculated, size)
