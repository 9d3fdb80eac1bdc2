"""A deliberately naive Merkle tree, transcribed from the definitions of RFC 9162 §2.1.

Recursive and slicing, quadratic at worst: written to be obviously right, not fast. The
fast code in ``audit.merkle`` is checked against it. Hashing uses ``hashlib`` directly so
that not even ``leaf_hash`` and ``node_hash`` are shared with the code under test.
"""

from hashlib import sha256


def leaf(data: bytes) -> bytes:
    """MTH({d(0)}) = SHA-256(0x00 || d(0)) (RFC 9162 §2.1.1)."""
    return sha256(b"\x00" + data).digest()


def node(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right) (RFC 9162 §2.1.1)."""
    return sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two k with k < n <= 2k, for n > 1."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(hashes: list[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes (the leaf hashing step is applied by the caller)."""
    if not hashes:
        return sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = split(len(hashes))
    return node(mth(hashes[:k]), mth(hashes[k:]))


def path(m: int, hashes: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) (RFC 9162 §2.1.3.1), for 0 <= m < n."""
    if len(hashes) == 1:
        return []
    k = split(len(hashes))
    if m < k:
        return [*path(m, hashes[:k]), mth(hashes[k:])]
    return [*path(m - k, hashes[k:]), mth(hashes[:k])]


def proof(m: int, hashes: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (RFC 9162 §2.1.4.1), for 0 < m <= n."""
    return subproof(m, hashes, True)


def subproof(m: int, hashes: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) (RFC 9162 §2.1.4.1)."""
    n = len(hashes)
    if m == n:
        return [] if whole else [mth(hashes)]
    k = split(n)
    if m <= k:
        return [*subproof(m, hashes[:k], whole), mth(hashes[k:])]
    return [*subproof(m - k, hashes[k:], False), mth(hashes[:k])]


def perfect_subtree_roots(hashes: list[bytes]) -> list[bytes]:
    """Roots of the maximal perfect subtrees, left to right: the tree's compact range."""
    roots, start = [], 0
    for bit in reversed(range(len(hashes).bit_length())):
        width = 1 << bit
        if len(hashes) & width:
            roots.append(mth(hashes[start : start + width]))
            start += width
    return roots
