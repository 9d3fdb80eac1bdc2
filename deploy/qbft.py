"""The QBFT genesis: ``extraData`` and the genesis document (pure functions).

Besu's QBFT genesis ``extraData`` (docs: private-networks/how-to/configure/consensus/qbft,
"Extra data"; source: ``QbftExtraDataCodec.encodeFromAddresses``) is
``RLP([32 zero bytes of vanity, [validator addresses], no vote = [], round = 0, seals = []])``
— what ``besu rlp encode --type=QBFT_EXTRA_DATA`` prints for a JSON list of addresses.
The validators are given in ascending order, as Besu's documentation asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import rlp
from eth_utils.address import to_checksum_address

from deploy.errors import CheckFailed

VANITY = bytes(32)
# "Istanbul" mixHash: identifies a BFT block (Besu requires this exact value)
BFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"


@dataclass(frozen=True)
class ChainParams:
    chain_id: int
    block_period_seconds: int
    request_timeout_seconds: int
    epoch_length: int
    gas_limit: str


def encode_extra_data(addresses: list[str]) -> str:
    """The genesis ``extraData`` for these validators, in the order given, as 0x-hex."""
    raw = [bytes.fromhex(a.removeprefix("0x")) for a in addresses]
    if any(len(a) != 20 for a in raw):
        raise ValueError("a validator address is 20 bytes")
    encoded: bytes = rlp.encode([VANITY, raw, [], 0, []])
    return "0x" + encoded.hex()


def decode_extra_data(extra_data: str) -> list[str]:
    """The validators of a genesis ``extraData`` (checksummed, in order). Raises CheckFailed
    unless it is exactly a genesis QBFT extraData: zero vanity, no vote, round 0, no seals."""
    try:
        items = rlp.decode(bytes.fromhex(extra_data.removeprefix("0x")))
    except (ValueError, rlp.DecodingError) as exc:
        raise CheckFailed("extraData", "RLP", f"undecodable ({type(exc).__name__})") from None
    if not isinstance(items, list) or len(items) != 5:
        raise CheckFailed("extraData", "a list of 5 items", _shape(items))
    vanity, validators, vote, round_, seals = items
    if vanity != VANITY or vote != [] or round_ != b"" or seals != []:
        raise CheckFailed("extraData", "zero vanity, no vote, round 0, no seals", _shape(items))
    if not isinstance(validators, list) or any(len(v) != 20 for v in validators):
        raise CheckFailed("extraData", "a list of 20-byte addresses", _shape(validators))
    return [to_checksum_address(v) for v in validators]


def genesis(params: ChainParams, validators: list[str], timestamp: int) -> dict[str, Any]:
    """A Besu QBFT genesis: Prague rules from block 0, zero base fee, free gas, no alloc."""
    return {
        "config": {
            "chainId": params.chain_id,
            "berlinBlock": 0,
            "londonBlock": 0,
            "shanghaiTime": 0,
            "cancunTime": 0,
            "pragueTime": 0,
            "zeroBaseFee": True,
            "qbft": {
                "blockperiodseconds": params.block_period_seconds,
                "epochlength": params.epoch_length,
                "requesttimeoutseconds": params.request_timeout_seconds,
            },
        },
        "nonce": "0x0",
        "timestamp": hex(timestamp),
        "extraData": encode_extra_data(sorted(validators, key=str.lower)),
        "gasLimit": params.gas_limit,
        "difficulty": "0x1",
        "mixHash": BFT_MIX_HASH,
        "coinbase": "0x" + "00" * 20,
        "baseFeePerGas": "0x0",
        "alloc": {},
        "number": "0x0",
        "gasUsed": "0x0",
        "parentHash": "0x" + "00" * 32,
    }


def _shape(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_shape(v) for v in value) + "]"
    return f"{len(value)} bytes" if isinstance(value, bytes) else type(value).__name__
