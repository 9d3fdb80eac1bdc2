"""Turn a contract revert into a typed error: decode the custom error from the ABI."""

from __future__ import annotations

import ast
from typing import Any

from eth_abi.abi import decode
from eth_tester.exceptions import TransactionFailed
from eth_utils.abi import function_signature_to_4byte_selector
from web3.exceptions import ContractLogicError, Web3RPCError

from .errors import AlreadyAnchoredError, ContractRevertError, MissingRoleError
from .models import Role

_TYPED: dict[str, type[ContractRevertError]] = {
    "MissingRole": MissingRoleError,
    "AlreadyAnchored": AlreadyAnchoredError,
}


class RevertDecoder:
    """Decodes revert data against the custom errors declared in an ABI."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self._errors = {_selector(e): e for e in abi if e["type"] == "error"}

    def error(self, data: bytes | None, tx_hash: str | None = None) -> ContractRevertError:
        """The typed error for ``data`` (an unknown or empty revert keeps its raw bytes)."""
        spec = self._errors.get(data[:4]) if data and len(data) >= 4 else None
        if data is None or spec is None:
            raw = data.hex() if data else ""
            return ContractRevertError("Unknown", {"data": raw}, tx_hash)
        args = _decode_args(spec, data[4:])
        return _TYPED.get(spec["name"], ContractRevertError)(spec["name"], args, tx_hash)


def revert_data(exc: BaseException) -> bytes | None:
    """Revert bytes carried by a web3 or eth-tester exception, or None if it carries none."""
    if isinstance(exc, ContractLogicError) and isinstance(exc.data, str):
        return bytes.fromhex(exc.data.removeprefix("0x"))
    if isinstance(exc, TransactionFailed):
        return _tester_data(exc)
    if isinstance(exc, Web3RPCError) and exc.rpc_response:
        error: Any = exc.rpc_response.get("error") or {}
        data = error.get("data") if isinstance(error, dict) else None
        if isinstance(data, str) and data.startswith("0x"):
            return bytes.fromhex(data[2:])
    return None


def _tester_data(exc: TransactionFailed) -> bytes | None:
    # eth-tester passes py-evm's Revert(bytes) on as str(); web3 parses it the same way.
    text = exc.args[0] if exc.args else None
    if isinstance(text, bytes):
        return text
    if isinstance(text, str):
        text = text.removeprefix("execution reverted: ")
    if isinstance(text, str) and text[:2] in ("b'", 'b"'):
        value = ast.literal_eval(text)
        return value if isinstance(value, bytes) else None
    return None


def _selector(spec: dict[str, Any]) -> bytes:
    types = ",".join(_type(i) for i in spec["inputs"])
    return function_signature_to_4byte_selector(f"{spec['name']}({types})")


def _type(item: dict[str, Any]) -> str:
    return str(item["type"])


def _decode_args(spec: dict[str, Any], payload: bytes) -> dict[str, Any]:
    values = decode([_type(i) for i in spec["inputs"]], payload)
    args = {i["name"]: v for i, v in zip(spec["inputs"], values, strict=True)}
    for item in spec["inputs"]:
        if item.get("internalType") == "enum Roles.Role":
            args[item["name"]] = Role(args[item["name"]]).name
    return args
