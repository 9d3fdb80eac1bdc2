"""``open_ledger(config)``: the one way the application gets a :class:`Ledger`."""

from __future__ import annotations

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from .artifacts import load_artifact
from .client import ADMIN_LABEL, ReadOnlyWeb3Ledger, Web3Ledger
from .config import LedgerConfig
from .deployment import check_deployed, locate_or_deploy, recorded_address
from .errors import DeploymentError, LedgerConfigError
from .keystore import KeyStore
from .models import Role
from .node import Node, open_embedded, open_embedded_reader, open_jsonrpc
from .revert import RevertDecoder
from .sender import FUND_WEI, TxSender


def open_ledger(config: LedgerConfig) -> Web3Ledger:
    """Open the configured backend, deploying the contract on first use.

    On first use this creates ``config.data_dir``, an ``admin`` key (encrypted with
    ``config.key_secret``) that deploys the contract and holds the Admin role, and on the
    embedded backend a chain whose genesis funds that key. Raises LedgerConfigError,
    KeyStoreError (wrong secret), NodeUnavailableError, DeploymentError.
    """
    config.data_dir.mkdir(parents=True, exist_ok=True)
    keys = KeyStore(config.data_dir / "keys.json", config.key_secret.get_secret_value())
    admin = _admin(keys)
    node = _open_node(config, admin.address)
    try:
        return _connect(config, node, keys)
    except BaseException:
        node.close()
        raise


def open_ledger_reader(config: LedgerConfig) -> ReadOnlyWeb3Ledger:
    """A read-only view of an existing ledger, for processes that do not own it: every
    view (anchors, approvals, the witness set, events, status) at the newest committed
    block; every write raises LedgerReadOnlyError. On the embedded backend the chain file
    is opened read-only and no lock is taken, so it works while the gateway owns the chain;
    nothing is created or deployed. Raises LedgerConfigError (no chain), DeploymentError
    (no recorded deployment), NodeUnavailableError."""
    keys = KeyStore(config.data_dir / "keys.json", config.key_secret.get_secret_value())
    if ADMIN_LABEL not in keys.labels():
        raise LedgerConfigError(f"no ledger keys at {config.data_dir}")
    embedded = config.backend == "embedded"
    node = open_embedded_reader(config) if embedded else open_jsonrpc(config)
    try:
        return _connect_reader(config, node, keys)
    except BaseException:
        node.close()
        raise


def _connect_reader(config: LedgerConfig, node: Node, keys: KeyStore) -> ReadOnlyWeb3Ledger:
    artifact = load_artifact()
    decoder = RevertDecoder(artifact.abi)
    sender = TxSender(node, decoder, receipt_timeout=config.receipt_timeout)
    address = config.contract_address or recorded_address(
        config.data_dir / "deployment.json", sender.chain_id
    )
    if address is None:
        raise DeploymentError("no deployment recorded for this ledger")
    check_deployed(node, artifact, address)
    contract = node.w3.eth.contract(address=to_checksum_address(address), abi=artifact.abi)
    return ReadOnlyWeb3Ledger(node, contract, keys, sender, decoder, None)


def _admin(keys: KeyStore) -> LocalAccount:
    if ADMIN_LABEL not in keys.labels():
        keys.create(ADMIN_LABEL)
        keys.set_role(ADMIN_LABEL, Role.ADMIN)
    return keys.account(ADMIN_LABEL)


def _open_node(config: LedgerConfig, admin_address: str) -> Node:
    if config.backend == "embedded":
        return open_embedded(config, admin_address)
    return open_jsonrpc(config)


def _connect(config: LedgerConfig, node: Node, keys: KeyStore) -> Web3Ledger:
    artifact = load_artifact()
    decoder = RevertDecoder(artifact.abi)
    sender = TxSender(node, decoder, receipt_timeout=config.receipt_timeout,
                      priority_fee=config.priority_fee_wei)  # fmt: skip
    admin = keys.account(ADMIN_LABEL)
    funder = _funder(config, admin)
    if funder is not None and funder is not admin:
        _top_up(sender, funder, admin.address)
    record = config.data_dir / "deployment.json"
    address = locate_or_deploy(node, sender, artifact, record, admin, config.contract_address)
    contract = node.w3.eth.contract(address=to_checksum_address(address), abi=artifact.abi)
    return Web3Ledger(node, contract, keys, sender, decoder, funder)


def _funder(config: LedgerConfig, admin: LocalAccount) -> LocalAccount | None:
    """Who pays for new accounts' gas: the genesis-funded admin on the embedded chain, the
    configured funding key on a JSON-RPC chain, nobody on a free-gas chain."""
    if config.backend == "embedded":
        return admin
    if config.funding_key is None:
        return None
    funder: LocalAccount = Account.from_key(config.funding_key.get_secret_value())
    return funder


def _top_up(sender: TxSender, funder: LocalAccount, address: str) -> None:
    balance = sender.balance(address)
    if balance < FUND_WEI // 10:
        sender.transact(funder, address, b"", gas=21_000, value=FUND_WEI)
