"""Known answers from outside this project, and the error contract of audit.merkle.

The tree vectors are the RFC 6962 test data of certificate-transparency (leaves, roots,
audit paths, consistency proofs for the first eight entries), as republished by
transparency-dev/merkle's ``testonly`` package; the hasher vectors are its ``rfc6962`` test
values. Indices here start at 0.
"""

import doctest

import pytest

from audit import errors, merkle

CT_LEAVES = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243",
             "5051525354555657", "606162636465666768696a6b6c6d6e6f"]]  # fmt: skip
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
H_0_1 = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
H_2_4 = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
H_4_5 = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
H_4_8 = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
H_5_6 = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
H_6_8 = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
CT_INCLUSION = {  # (index, size): audit path
    (0, 1): [],
    (0, 2): [H_0_1],
    (1, 2): [CT_ROOTS[1]],
    (2, 3): [CT_ROOTS[2]],
    (1, 5): [CT_ROOTS[1], H_2_4, H_4_5],
    (0, 8): [H_0_1, H_2_4, H_4_8],
    (5, 8): [H_4_5, H_6_8, CT_ROOTS[4]],
}
CT_CONSISTENCY = {  # (old_size, new_size): proof
    (1, 1): [],
    (1, 8): [H_0_1, H_2_4, H_4_8],
    (6, 8): [H_5_6, H_6_8, CT_ROOTS[4]],
    (2, 5): [H_2_4, H_4_5],
}
HASHES = [merkle.leaf_hash(data) for data in CT_LEAVES]
SOME_HASH = bytes(range(32))


def test_rfc6962_hasher_vectors() -> None:
    assert merkle.EMPTY_ROOT.hex() == CT_ROOTS[0]
    assert merkle.leaf_hash(b"").hex() == CT_ROOTS[1]
    leaf = "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    assert merkle.leaf_hash(b"L123456").hex() == leaf
    node = "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    assert merkle.node_hash(b"N123", b"N456").hex() == node


@pytest.mark.parametrize("size", range(9))
def test_ct_roots(size: int) -> None:
    assert merkle.root(HASHES[:size]).hex() == CT_ROOTS[size]


@pytest.mark.parametrize(("index", "size"), CT_INCLUSION)
def test_ct_inclusion_proofs(index: int, size: int) -> None:
    proof = merkle.inclusion_proof(HASHES[:size], index)
    assert [h.hex() for h in proof] == CT_INCLUSION[index, size]
    root = bytes.fromhex(CT_ROOTS[size])
    merkle.verify_inclusion(HASHES[index], index, size, proof, root)


@pytest.mark.parametrize(("old_size", "new_size"), CT_CONSISTENCY)
def test_ct_consistency_proofs(old_size: int, new_size: int) -> None:
    proof = merkle.consistency_proof(HASHES[:new_size], old_size)
    assert [h.hex() for h in proof] == CT_CONSISTENCY[old_size, new_size]
    old_root, new_root = (bytes.fromhex(CT_ROOTS[n]) for n in (old_size, new_size))
    merkle.verify_consistency(old_size, new_size, proof, old_root, new_root)


def test_docstring_examples_run() -> None:
    assert doctest.testmod(merkle, raise_on_error=True).attempted > 0


def test_errors_form_one_hierarchy_with_fixed_messages() -> None:
    leaves_out = [errors.OutOfRangeError, errors.HashSizeError, errors.ProofError]
    assert all(issubclass(cls, errors.MerkleError) for cls in leaves_out)
    assert issubclass(errors.RootMismatchError, errors.ProofError)
    assert issubclass(errors.ProofLengthError, errors.ProofError)
    mismatch = errors.RootMismatchError(b"a" * 32, b"b" * 32, 7)
    assert str(mismatch) == errors.RootMismatchError.message
    assert "61" not in str(mismatch) and "aaa" not in str(mismatch)


def test_verifiers_return_none() -> None:
    root = bytes.fromhex(CT_ROOTS[8])
    proof = merkle.inclusion_proof(HASHES, 5)
    assert merkle.verify_inclusion(HASHES[5], 5, 8, proof, root) is None  # type: ignore[func-returns-value]


def test_root_mismatch_carries_expected_and_calculated_roots() -> None:
    proof = merkle.inclusion_proof(HASHES, 5)
    with pytest.raises(errors.RootMismatchError) as caught:
        merkle.verify_inclusion(HASHES[5], 5, 8, proof, SOME_HASH)
    assert caught.value.expected == SOME_HASH
    assert caught.value.calculated.hex() == CT_ROOTS[8]
    assert caught.value.size == 8


def test_consistency_mismatch_names_the_tree() -> None:
    old_root, new_root = (bytes.fromhex(CT_ROOTS[n]) for n in (6, 8))
    proof = merkle.consistency_proof(HASHES, 6)
    with pytest.raises(errors.RootMismatchError) as old:
        merkle.verify_consistency(6, 8, proof, SOME_HASH, new_root)
    with pytest.raises(errors.RootMismatchError) as new:
        merkle.verify_consistency(6, 8, proof, old_root, SOME_HASH)
    assert (old.value.size, old.value.calculated) == (6, old_root)
    assert (new.value.size, new.value.calculated) == (8, new_root)


@pytest.mark.parametrize(("index", "size"), [(-1, 8), (8, 8), (0, 0), (9, 8)])
def test_inclusion_out_of_range(index: int, size: int) -> None:
    with pytest.raises(errors.OutOfRangeError) as caught:
        merkle.verify_inclusion(HASHES[0], index, size, [], merkle.EMPTY_ROOT)
    assert (caught.value.index, caught.value.size) == (index, size)
    with pytest.raises(errors.OutOfRangeError):
        merkle.inclusion_proof(HASHES[:size], index)


@pytest.mark.parametrize(("old_size", "new_size"), [(-1, 8), (9, 8), (1, 0)])
def test_consistency_out_of_range(old_size: int, new_size: int) -> None:
    with pytest.raises(errors.OutOfRangeError):
        merkle.verify_consistency(old_size, new_size, [], SOME_HASH, SOME_HASH)
    with pytest.raises(errors.OutOfRangeError):
        merkle.consistency_proof(HASHES[:new_size], old_size)


def test_hashes_of_the_wrong_size_are_refused() -> None:
    root, proof = bytes.fromhex(CT_ROOTS[8]), merkle.inclusion_proof(HASHES, 5)
    short = HASHES[5][:31]
    with pytest.raises(errors.HashSizeError) as caught:
        merkle.verify_inclusion(short, 0, 1, [], short)
    assert caught.value.length == 31
    with pytest.raises(errors.HashSizeError):
        merkle.verify_inclusion(HASHES[5], 5, 8, [*proof[:2], proof[2] + b"\0"], root)
    with pytest.raises(errors.HashSizeError):
        merkle.verify_consistency(8, 8, [], root[:31], root[:31])
    with pytest.raises(errors.HashSizeError):
        merkle.root([*HASHES, b""])
    frontier = merkle.Frontier()
    with pytest.raises(errors.HashSizeError):
        frontier.extend([*HASHES, b"x" * 33])
    with pytest.raises(errors.HashSizeError):
        frontier.append(b"x" * 33)
    assert frontier.size == 0


def test_single_leaf_tree_root_is_the_leaf_hash() -> None:
    merkle.verify_inclusion(HASHES[3], 0, 1, [], HASHES[3])
    with pytest.raises(errors.RootMismatchError):
        merkle.verify_inclusion(HASHES[3], 0, 1, [], HASHES[4])


def test_empty_and_equal_trees_in_consistency() -> None:
    root = bytes.fromhex(CT_ROOTS[8])
    merkle.verify_consistency(0, 8, [], merkle.EMPTY_ROOT, root)
    merkle.verify_consistency(0, 0, [], merkle.EMPTY_ROOT, merkle.EMPTY_ROOT)
    merkle.verify_consistency(8, 8, [], root, root)
    with pytest.raises(errors.RootMismatchError):
        merkle.verify_consistency(0, 8, [], SOME_HASH, root)
    with pytest.raises(errors.RootMismatchError):
        merkle.verify_consistency(8, 8, [], root, SOME_HASH)
    with pytest.raises(errors.ProofLengthError) as caught:
        merkle.verify_consistency(8, 8, [root], root, root)
    assert (caught.value.expected, caught.value.actual) == (0, 1)
    assert merkle.consistency_proof(HASHES, 8) == []
