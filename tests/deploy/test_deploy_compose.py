"""docker-compose.yml, checked statically (no container engine runs here): it validates
against the vendored compose schema; every validator runs the same pinned Besu with a health
check, a named data volume, a static IP and its key from a compose secret; no removed or
dangerous Besu option; secrets come from git-ignored files, never from the file itself."""

from __future__ import annotations

import copy
import hashlib
import re
import subprocess
from typing import Any

import pytest
import yaml
from deploy_fixtures import Network

from deploy import checks, compose_options
from deploy.consortium import Consortium
from deploy.errors import CheckFailed

ROOT = checks.ROOT
SCHEMA_SHA256 = "1f91e091f16b2dd50ab8860e02bb391d22df553d91c145eacedb1b6eff9c3f0e"


@pytest.fixture
def compose() -> dict[str, Any]:
    return checks.load_compose()


def _options(svc: dict[str, Any]) -> dict[str, str]:
    return compose_options.besu_options(svc, compose_options.common_config())


def test_the_vendored_schema_is_the_one_noted(compose: dict[str, Any]) -> None:
    assert hashlib.sha256(checks.SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    assert SCHEMA_SHA256 in (checks.SCHEMA.parent / "README.md").read_text()


def test_the_compose_file_validates_against_the_compose_schema(compose: dict[str, Any]) -> None:
    checks.check_schema(compose)


@pytest.mark.parametrize(
    ("mutation", "where"),
    [
        (lambda c: c["services"]["postgres"].update(restart_policy="always"), "postgres"),
        (lambda c: c["services"]["besu-court"].update(healthcheck={"interval": 5}), "besu-court"),
        (lambda c: c.update(volumes=["not", "a", "mapping"]), "volumes"),
    ],
)
def test_the_schema_check_catches_an_invalid_file(compose: dict[str, Any], mutation: Any,
                                                  where: str) -> None:  # fmt: skip
    broken = copy.deepcopy(compose)
    mutation(broken)
    with pytest.raises(CheckFailed, match=where):
        checks.check_schema(broken)


def test_the_repository_passes_every_static_check(the_consortium: Consortium) -> None:
    checks.check_all(ROOT / "docker-compose.yml", the_consortium)


def test_the_repository_and_a_generated_network_pass_together(network: Network) -> None:
    checks.check_all(ROOT / "docker-compose.yml", network.consortium, network.out)


def test_four_validators_on_one_pinned_besu_of_at_least_26_7_1(compose: dict[str, Any]) -> None:
    services = checks.besu_services(compose)
    assert len(services) == 4
    (image,) = {svc["image"] for svc in services.values()}
    version = tuple(int(x) for x in image.split(":")[1].split("."))
    assert version >= (26, 7, 1) >= (26, 6, 1)


@pytest.mark.parametrize("image", ["hyperledger/besu:26.6.1", "hyperledger/besu:latest",
                                   "hyperledger/besu", "hyperledger/besu:develop"])  # fmt: skip
def test_an_old_floating_or_mixed_besu_tag_is_caught(compose: dict[str, Any], image: str) -> None:
    services = copy.deepcopy(checks.besu_services(compose))
    services["besu-court"]["image"] = image
    with pytest.raises(CheckFailed, match="besu image"):
        checks.check_besu_images(services)
    for svc in services.values():
        svc["image"] = image
    with pytest.raises(CheckFailed, match="besu image"):
        checks.check_besu_images(services)


@pytest.mark.parametrize(
    ("mutation", "check"),
    [
        (lambda s: s.pop("healthcheck"), "healthcheck"),
        (lambda s: s.update(healthcheck={**s["healthcheck"], "disable": True}), "healthcheck"),
        (
            lambda s: s.update(volumes=["./data:/opt/besu/data", "./deploy/network:/etc/besu:ro"]),
            "volume",
        ),
        (
            lambda s: s.update(volumes=["besu-court:/opt/besu/data", "./deploy/network:/etc/besu"]),
            "mounts",
        ),
        (lambda s: s.update(networks=["consortium"]), "address"),
        (lambda s: s.pop("secrets"), "node key"),
    ],
)
def test_a_validator_missing_its_health_volume_address_or_key_is_caught(
    compose: dict[str, Any], mutation: Any, check: str
) -> None:
    svc = copy.deepcopy(compose["services"]["besu-court"])
    mutation(svc)
    with pytest.raises(CheckFailed, match=check):
        checks.check_besu_service("besu-court", svc, compose)


def test_the_health_check_needs_no_curl(compose: dict[str, Any]) -> None:
    for svc in checks.besu_services(compose).values():
        test = " ".join(svc["healthcheck"]["test"])
        assert "/dev/tcp/127.0.0.1/8545" in test and "/liveness" in test
        assert "curl" not in test and "wget" not in test


def test_every_validators_options_pass(compose: dict[str, Any]) -> None:
    for name, svc in checks.besu_services(compose).items():
        options = _options(svc)
        checks.check_besu_options(name, options, compose_options.published_ports(svc))
        assert options["node-private-key-file"] == "/run/secrets/besu_node_key"


@pytest.mark.parametrize(
    "arg",
    [
        "--host-whitelist=*",
        "--miner-coinbase=0x0000000000000000000000000000000000000001",
        "--miner-extra-data=0x00",
        "--permissions-nodes-contract-enabled",
        "--permissions-accounts-contract-address=0x0000000000000000000000000000000000008888",
        "--rpc-http-api=ETH,NET,WEB3,ADMIN",
        "--rpc-http-api=ETH,DEBUG",
        "--rpc-ws-api=TXPOOL",
        "--min-gas-price=1000",
        "--data-storage-format=BONSAI",
        "--permissions-nodes-config-file-enabled=false",
        "--host-allowlist=*",
    ],
)
def test_a_removed_or_dangerous_option_is_caught(compose: dict[str, Any], arg: str) -> None:
    svc = copy.deepcopy(compose["services"]["besu-court"])
    svc["command"].append(arg)
    with pytest.raises(CheckFailed):
        checks.check_besu_options("besu-court", _options(svc), compose_options.published_ports(svc))


def test_options_set_through_the_environment_are_checked_too(compose: dict[str, Any]) -> None:
    svc = copy.deepcopy(compose["services"]["besu-court"])
    svc["environment"] = {"BESU_HOST_WHITELIST": "*"}
    with pytest.raises(CheckFailed, match="host-whitelist"):
        checks.check_besu_options("besu-court", _options(svc), set())


@pytest.mark.parametrize("port", ["8545:8545", "127.0.0.1:8546:8546", {"target": 8545}])
def test_a_published_json_rpc_port_is_caught(compose: dict[str, Any], port: object) -> None:
    svc = copy.deepcopy(compose["services"]["besu-court"])
    svc["ports"] = [port, "30303:30303"]
    with pytest.raises(CheckFailed, match="published"):
        checks.check_besu_options("besu-court", _options(svc), compose_options.published_ports(svc))


def test_each_validator_sits_at_its_consortium_address(compose: dict[str, Any],
                                                        the_consortium: Consortium) -> None:  # fmt: skip
    checks.check_compose_matches(compose, the_consortium, compose_options.common_config())
    moved = copy.deepcopy(compose)
    moved["services"]["besu-court"]["networks"]["consortium"]["ipv4_address"] = "172.28.0.99"
    with pytest.raises(CheckFailed, match="besu-court address"):
        checks.check_compose_matches(moved, the_consortium, compose_options.common_config())


def test_every_image_is_pinned(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        image = svc["image"]
        assert ":" in image and not image.endswith(":latest"), name
        if "build" not in svc:  # images we pull: a version, never a floating name
            assert re.search(r":v?\d+", image), name


def test_secrets_come_from_git_ignored_files(compose: dict[str, Any]) -> None:
    for name, secret in compose["secrets"].items():
        path = secret["file"]
        assert path.startswith("./deploy/secrets/"), name
        assert _ignored(path), path
    for svc in compose["services"].values():
        for env_file in svc.get("env_file") or []:
            assert _ignored(env_file) and not env_file.endswith(".example"), env_file
        env = svc.get("environment") or {}
        for key, value in env.items():
            assert not re.search(r"[0-9a-fA-F]{64}", str(value)), key
            assert not re.search(r"(PASSWORD|SECRET|KEY)$", key), key


def test_env_file_templates_are_committed_and_hold_no_secret() -> None:
    examples = sorted((ROOT / "deploy" / "env").glob("*.env.example"))
    assert [p.name for p in examples] == ["gateway.env.example", "witness-auditor.env.example",
                                          "witness-court.env.example"]  # fmt: skip
    for path in examples:
        for line in path.read_text().splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.partition("=")
                assert not re.search(r"SECRET|PASSWORD|MASTER_KEY|FUNDING", key), line
                assert not re.search(r"[0-9a-fA-F]{32}", value), line


def test_prometheus_scrapes_the_operator_port_of_services_that_exist(
    compose: dict[str, Any],
) -> None:
    config = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    targets = [t for job in config["scrape_configs"]
               for sc in job.get("static_configs", []) for t in sc["targets"]]  # fmt: skip
    targets += [f"{n}:{sd['port']}" for job in config["scrape_configs"]
                for sd in job.get("dns_sd_configs", []) for n in sd["names"]]  # fmt: skip
    for target in targets:
        host, port = target.rsplit(":", 1)
        assert host in compose["services"], target
        assert port == ("9545" if host.startswith("besu-") else "9100"), target
    assert {t.rsplit(":", 1)[0] for t in targets} >= set(checks.besu_services(compose))
    mounts = compose_options.mounts(compose["services"]["prometheus"])
    assert any(m.source == "./deploy/prometheus.yml" and m.read_only for m in mounts)


def _ignored(path: str) -> bool:
    probe = subprocess.run(["git", "check-ignore", "-q", path.removeprefix("./")], cwd=ROOT,
                           check=False)  # fmt: skip
    return probe.returncode == 0


def test_answer_workers_run_as_workers_on_what_they_share(compose: dict[str, Any]) -> None:
    """`dexin serve --worker` refuses to start unless the control plane and the audit log are
    PostgreSQL and the ledger is JSON-RPC: the compose file gives its workers exactly that, and
    the vault owner publishes the snapshot they read (settings read by the entrypoint from the
    secret files, never written here)."""
    services = compose["services"]
    worker, owner = services["answer-worker"], services["vault-owner"]
    assert "--worker" in worker["command"] and "--worker" not in owner["command"]
    for svc in (worker, owner):
        env = svc["environment"]
        assert env["DATABASE_URL_FILE"] == env["DEXIN_AUDIT_DATABASE_URL_FILE"]
        assert "deploy/network/ledger.env" in svc["env_file"]
        assert any(v.startswith("dexin-home:") for v in svc["volumes"])  # the snapshots
    assert owner["environment"]["DEXIN_VAULT_SNAPSHOTS"] == "1"
    entrypoint = (ROOT / "deploy" / "docker-entrypoint.sh").read_text(encoding="utf-8")
    names = re.search(r"for name in ([A-Z_ ]+); do", entrypoint)
    assert names is not None and "DEXIN_AUDIT_DATABASE_URL" in names.group(1).split()
