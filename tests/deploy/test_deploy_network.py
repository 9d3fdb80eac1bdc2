"""Node keys and the generated network: each organisation's key stays with it; the genesis
``extraData`` decodes to exactly the handed-over validators; every enode list agrees; one
chain id everywhere."""

from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path

import pytest
import rlp
from deploy_fixtures import GENESIS_TIME, Network
from eth_keys import keys

from deploy import checks, netfiles, nodekeys, qbft
from deploy.errors import CheckFailed, KeyFileError, NetworkInputError
from deploy.network import main

VECTORS = Path(__file__).parent / "vectors"


def test_extra_data_matches_besus_documented_encoding() -> None:
    vector = json.loads((VECTORS / "qbft-extra-data-besu-docs.json").read_text())
    assert qbft.encode_extra_data(vector["validators"]) == vector["extraData"]
    decoded = qbft.decode_extra_data(vector["extraData"])
    assert [a.lower() for a in decoded] == vector["validators"]


@pytest.mark.parametrize(
    ("name", "items"),
    [
        ("vanity-not-zero", [b"\x01" * 32, [bytes(20)], [], 0, []]),
        ("a-vote", [bytes(32), [bytes(20)], [bytes(20), b"\x07"], 0, []]),
        ("round-not-zero", [bytes(32), [bytes(20)], [], 1, []]),
        ("a-seal", [bytes(32), [bytes(20)], [], 0, [bytes(65)]]),
        ("short-address", [bytes(32), [bytes(19)], [], 0, []]),
        ("four-items", [bytes(32), [bytes(20)], [], 0]),
    ],
)
def test_extra_data_that_is_not_a_genesis_qbft_one_is_refused(name: str, items: list) -> None:
    with pytest.raises(CheckFailed):
        qbft.decode_extra_data("0x" + rlp.encode(items).hex())


def test_keygen_keeps_the_key_private_and_hands_over_the_public_key(tmp_path: Path) -> None:
    identity = nodekeys.generate("court", tmp_path / "court")
    key_file = tmp_path / "court" / "key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().startswith("0x") and len(key_file.read_text()) == 66  # Besu's
    assert nodekeys.public_key_of(key_file) == identity.public_key
    handed = nodekeys.read_public_key(tmp_path / "court" / "court.pub")
    assert handed == identity
    assert handed.address == keys.PublicKey(identity.public_key).to_checksum_address()
    assert key_file.read_text()[2:] not in (tmp_path / "court" / "court.pub").read_text()


def test_keygen_never_overwrites_a_key(tmp_path: Path) -> None:
    nodekeys.generate("court", tmp_path)
    before = (tmp_path / "key").read_bytes()
    with pytest.raises(KeyFileError):
        nodekeys.generate("court", tmp_path)
    assert (tmp_path / "key").read_bytes() == before


@pytest.mark.parametrize(
    "text", ["0x" + "ab" * 64, "0x" + "00" * 64, "0x1234", "0x04" + "11" * 64, "not hex"]
)
def test_a_public_key_off_the_curve_or_malformed_is_refused(tmp_path: Path, text: str) -> None:
    (tmp_path / "court.pub").write_text(text)
    with pytest.raises(KeyFileError):
        nodekeys.read_public_key(tmp_path / "court.pub")


def test_genesis_extra_data_is_exactly_the_handed_over_validators(network: Network) -> None:
    genesis = json.loads((network.out / "genesis.json").read_text())
    expected = sorted((i.address for i in network.identities), key=str.lower)
    assert qbft.decode_extra_data(genesis["extraData"]) == expected
    assert genesis["config"]["qbft"] == {"blockperiodseconds": 2, "epochlength": 30000,
                                         "requesttimeoutseconds": 10}  # fmt: skip
    assert genesis["baseFeePerGas"] == "0x0" and genesis["config"]["zeroBaseFee"] is True
    assert genesis["config"]["pragueTime"] == 0 and genesis["timestamp"] == hex(GENESIS_TIME)
    assert genesis["mixHash"] == qbft.BFT_MIX_HASH
    checks.check_network(network.out, network.consortium, network.identities)


def test_enodes_agree_across_static_nodes_bootnodes_and_allowlist(network: Network) -> None:
    c = network.consortium
    expected = {i.enode(c.validator(i.org).ip, 30303) for i in network.identities}
    static = json.loads((network.out / "static-nodes.json").read_text())
    allow = tomllib.loads((network.out / "permissions_config.toml").read_text())
    config = tomllib.loads((network.out / "config.toml").read_text())
    assert set(static) == set(allow["nodes-allowlist"]) == set(config["bootnodes"]) == expected
    assert all(e.startswith("enode://") and e.endswith("@172.28.0.1" + e[-7:]) for e in static)


def test_one_chain_id_everywhere(network: Network) -> None:
    genesis = json.loads((network.out / "genesis.json").read_text())
    config = tomllib.loads((network.out / "config.toml").read_text())
    assert genesis["config"]["chainId"] == config["network-id"] == network.consortium.chain.chain_id


def test_init_writes_no_private_key(network: Network) -> None:
    secrets = [(network.secrets / i.org / "key").read_text()[2:] for i in network.identities]
    for path in network.out.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert not any(secret in text for secret in secrets), path
    assert not list(network.out.rglob("key")) and not list(network.out.rglob("*.priv"))
    assert "SECRET" not in (network.out / "ledger.env").read_text().upper()


def test_a_key_not_handed_over_is_caught(network: Network, tmp_path: Path) -> None:
    stranger = nodekeys.generate("court", tmp_path / "stranger")
    handed = [stranger if i.org == "court" else i for i in network.identities]
    with pytest.raises(CheckFailed, match="extraData"):
        checks.check_network(network.out, network.consortium, handed)


@pytest.mark.parametrize("file", ["static-nodes.json", "permissions_config.toml", "config.toml"])
def test_an_enode_that_disagrees_is_caught(network: Network, file: str) -> None:
    path = network.out / file
    path.write_text(path.read_text().replace("@172.28.0.13:", "@172.28.0.99:"))
    with pytest.raises(CheckFailed, match="enodes"):
        checks.check_network(network.out, network.consortium)


def test_a_chain_id_that_disagrees_is_caught(network: Network) -> None:
    path = network.out / "config.toml"
    path.write_text(path.read_text().replace("network-id = 2088", "network-id = 2089"))
    with pytest.raises(CheckFailed, match="chain id"):
        checks.check_network(network.out, network.consortium)


def test_a_genesis_with_another_validator_set_is_caught(network: Network) -> None:
    path = network.out / "genesis.json"
    genesis = json.loads(path.read_text())
    genesis["extraData"] = qbft.encode_extra_data([i.address for i in network.identities[:3]])
    path.write_text(json.dumps(genesis))
    with pytest.raises(CheckFailed, match="extraData"):
        checks.check_network(network.out, network.consortium)


def test_init_refuses_missing_duplicate_or_extra_keys(network: Network, tmp_path: Path) -> None:
    c, ids = network.consortium, network.identities
    with pytest.raises(NetworkInputError):
        netfiles.build(c, ids[:3], GENESIS_TIME, {})
    twin = nodekeys.NodeIdentity("court", ids[0].public_key)
    with pytest.raises(NetworkInputError):
        netfiles.build(c, [*ids[:2], twin, ids[3]], GENESIS_TIME, {})
    with pytest.raises(NetworkInputError):
        netfiles.build(c, [*ids, nodekeys.generate("bank-two", tmp_path / "b2")], GENESIS_TIME, {})
    with pytest.raises(NetworkInputError):  # a second init would make a second chain
        netfiles.write(network.out, {"genesis.json": "{}"})


def test_the_command_line_builds_and_checks_a_network(network: Network, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    out = tmp_path / "cli-network"
    args = ["init", "--pubkeys", str(network.pubkeys), "--out", str(out), "--timestamp", "1"]
    assert main(args) == 0
    assert main(["check", "--network", str(out)]) == 0
    (out / "static-nodes.json").write_text("[]")
    assert main(["check", "--network", str(out)]) == 1
    assert main(["init", "--pubkeys", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x")]) == 2
    assert "check failed: enodes in static-nodes.json" in capsys.readouterr().err
