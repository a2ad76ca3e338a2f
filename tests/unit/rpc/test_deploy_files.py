"""docker-compose files and Kubernetes manifests: valid, consistent, and every command they run
is a valid `semcom` command line."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import parses

REPO = Path(__file__).resolve().parents[3]
COMPOSE_FILES = [REPO / "docker-compose.yml", REPO / "docker-compose.cpu.yml"]
K8S_DIR = REPO / "deploy" / "k8s"
MODEL_SERVICES = ("receiver", "sender")


def _flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


@pytest.fixture(scope="module", params=COMPOSE_FILES, ids=lambda p: p.name)
def compose(request) -> dict:
    return yaml.safe_load(request.param.read_text())


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_compose_matches_the_compose_spec_schema(path: Path) -> None:
    import jsonschema

    schema = json.loads((REPO / "tests" / "data" / "compose-spec.json").read_text())
    validator = jsonschema.Draft201909Validator(schema)  # its $schema URI ends in "#", unknown to validator_for
    errors = sorted(validator.iter_errors(yaml.safe_load(path.read_text())), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_docker_compose_config(path: Path) -> None:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("no `docker compose` plugin here; the schema test covers the file")
    done = subprocess.run([docker, "compose", "-f", str(path), "config", "-q"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_compose_topology(compose: dict) -> None:
    services = compose["services"]
    assert {"models", "receiver", "channel", "sender", "demo"} <= set(services)
    ports = {}
    for name, service in services.items():
        argv = service["command"]
        parses(argv)
        if argv[0] == "serve":
            assert argv[1] == name
            ports[name] = _flag(argv, "--port")
    for name, service in services.items():
        for dep, cond in service.get("depends_on", {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            if cond["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], f"{dep} has no healthcheck"
        if "healthcheck" in service:
            test = service["healthcheck"]["test"]
            assert test[:2] == ["CMD", "semcom"]
            parses(test[2:])
            assert test[2] == "health" and test[3] == f"127.0.0.1:{ports[name]}"
        argv = service["command"]
        if "--upstream" in argv or "--to" in argv:
            host, port = _flag(argv, "--upstream" if "--upstream" in argv else "--to").split(":")
            assert port == ports[host] and host in service["depends_on"], name
    for name in MODEL_SERVICES:
        assert services[name]["depends_on"]["models"]["condition"] == "service_completed_successfully"
        assert "model-cache:/models" in services[name]["volumes"]
    assert "model-cache:/models" in services["models"]["volumes"]


def test_gpu_in_the_main_file_and_tiny_offline_in_the_cpu_variant() -> None:
    main, cpu = (yaml.safe_load(p.read_text())["services"] for p in COMPOSE_FILES)
    device = main["receiver"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    assert main["models"]["command"][:2] == ["models", "download"]
    assert all("deploy" not in service for service in cpu.values())
    assert cpu["models"]["command"] == ["models", "build-tiny"]
    assert cpu["receiver"]["environment"]["SEMCOM_PROFILE"] == "tiny"
    assert main["receiver"]["build"]["dockerfile"] == "docker/Dockerfile.cuda"
    assert cpu["receiver"]["build"]["dockerfile"] == "docker/Dockerfile.cpu"
    for dockerfile in ("docker/Dockerfile.cuda", "docker/Dockerfile.cpu"):
        text = (REPO / dockerfile).read_text()
        assert 'ENTRYPOINT ["semcom"]' in text and 'pip install ".[serve]"' in text  # the extra the services need


def _k8s() -> list[dict]:
    docs = []
    for path in sorted(K8S_DIR.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def test_k8s_manifests() -> None:
    docs = _k8s()
    by_kind: dict[tuple[str, str], dict] = {}
    for doc in docs:
        assert {"apiVersion", "kind", "metadata"} <= set(doc)
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "semcom"
        by_kind[(doc["kind"], doc["metadata"]["name"])] = doc
    env_of = {}
    for name in ("receiver", "channel", "sender"):
        deployment = by_kind[("Deployment", name)]
        template = deployment["spec"]["template"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= template["metadata"]["labels"].items()
        (container,) = template["spec"]["containers"]
        parses(container["args"])
        port = _flag(container["args"], "--port")
        assert {p["containerPort"] for p in container["ports"]} >= {int(port)}
        for probe in ("readinessProbe", "livenessProbe"):
            command = container[probe]["exec"]["command"]
            parses(command[1:])
            assert command[:3] == ["semcom", "health", f"127.0.0.1:{port}"]
        env_of[name] = {e["name"]: e["value"] for e in container.get("env", [])}
    receiver = by_kind[("Deployment", "receiver")]["spec"]["template"]["spec"]["containers"][0]
    assert receiver["resources"]["limits"]["nvidia.com/gpu"] == 1
    headless = by_kind[("Service", "receiver-headless")]
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["selector"] == by_kind[("Deployment", "receiver")]["spec"]["selector"]["matchLabels"]
    assert env_of["channel"]["SEMCOM_UPSTREAM"] == "dns:///receiver-headless.semcom.svc.cluster.local:50053"
    assert env_of["channel"]["SEMCOM_LB_POLICY"] == "round_robin"
    assert env_of["sender"]["SEMCOM_UPSTREAM"] == "channel.semcom.svc.cluster.local:50052"
    assert ("Job", "semcom-models") in by_kind and ("PersistentVolumeClaim", "semcom-models") in by_kind


def _seconds(text: str) -> float:
    text = str(text).strip()
    return float(text[:-1]) * (60 if text.endswith("m") else 1) if text[-1] in "sm" else float(text)


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_compose_grace_outlasts_the_drain_and_probes_are_readiness(path: Path) -> None:
    services = yaml.safe_load(path.read_text())["services"]
    for name in ("receiver", "channel", "sender"):
        service = services[name]
        drain = float(service["environment"]["SEMCOM_SHUTDOWN_GRACE_S"])
        assert _seconds(service["stop_grace_period"]) > drain, f"{name}: stop grace must outlast the drain"
        test = service["healthcheck"]["test"]
        assert _flag(test, "--probe") == "readiness"
        assert service["environment"].get("SEMCOM_METRICS_HOST", "127.0.0.1") == "127.0.0.1"


def test_k8s_grace_outlasts_prestop_plus_drain_and_probes_are_split() -> None:
    docs = _k8s()
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "semcom-config")["data"]
    drain = float(config["SEMCOM_SHUTDOWN_GRACE_S"])
    assert config.get("SEMCOM_METRICS_HOST", "127.0.0.1") == "127.0.0.1"  # plain-HTTP metrics stay local by default
    for doc in docs:
        if doc["kind"] != "Deployment":
            continue
        spec = doc["spec"]["template"]["spec"]
        (container,) = spec["containers"]
        pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
        sleep = float(pre_stop[1]) if pre_stop[0] == "sleep" else 0.0
        assert spec["terminationGracePeriodSeconds"] > sleep + drain, doc["metadata"]["name"]
        assert _flag(container["livenessProbe"]["exec"]["command"], "--probe") == "liveness"
        for probe in ("readinessProbe", "startupProbe"):
            if probe in container:  # the channel has no models to wait for: no startup probe
                assert _flag(container[probe]["exec"]["command"], "--probe") == "readiness"


def _mtls_env() -> dict[str, dict[str, dict[str, str]]]:
    """Per variant (compose override, k8s overlay), per service: the TLS settings it adds."""
    compose = yaml.safe_load((REPO / "docker-compose.mtls.yml").read_text())["services"]
    k8s: dict[str, dict[str, str]] = {}
    shared: dict[str, str] = {}
    for doc in yaml.safe_load_all((K8S_DIR / "mtls" / "tls.yaml").read_text()):
        if doc["kind"] == "ConfigMap":
            shared = doc["data"]
        else:
            (container,) = doc["spec"]["template"]["spec"]["containers"]
            k8s[doc["metadata"]["name"]] = {e["name"]: str(e["value"]) for e in container["env"]}
    return {
        "compose": {n: {k: str(v) for k, v in s["environment"].items()} for n, s in compose.items() if n != "demo"},
        "k8s": {n: {**shared, **env} for n, env in k8s.items()},
    }


@pytest.mark.parametrize("variant", ["compose", "k8s"])
def test_mtls_examples_give_each_hop_its_own_client_identity_and_allow_only_the_hop_in_front(variant: str) -> None:
    """A server certificate is not a client credential: each dialling hop presents a client
    certificate of its own, and each server's allow-list names exactly the hop in front of it
    (the identities that tests/pki.py make_deploy_pki issues)."""
    from tests.pki import DEPLOY_CLIENTS

    env = _mtls_env()[variant]
    assert set(env) == {"receiver", "channel", "sender"}
    in_front = {"receiver": "channel", "channel": "sender", "sender": "demo"}
    for role, settings in env.items():
        assert settings["SEMCOM_INSECURE"] == "false" and settings["SEMCOM_TLS_CA"]
        assert settings["SEMCOM_TLS_ALLOWED_CLIENTS"] == DEPLOY_CLIENTS[in_front[role]], role
        if role in ("channel", "sender"):
            assert settings["SEMCOM_UPSTREAM_TLS_CERT"] != settings["SEMCOM_TLS_CERT"], role
            assert "client" in settings["SEMCOM_UPSTREAM_TLS_CERT"] and "client" in settings["SEMCOM_UPSTREAM_TLS_KEY"]
        else:
            assert "SEMCOM_UPSTREAM_TLS_CERT" not in settings
    kustomization = yaml.safe_load((K8S_DIR / "mtls" / "kustomization.yaml").read_text())
    assert all((K8S_DIR / "mtls" / r).resolve().exists() for r in kustomization["resources"])


def test_the_deploy_pki_issues_the_identities_the_examples_name(tmp_path) -> None:
    pytest.importorskip("trustme", reason="the dev extra's `trustme` makes the test certificates")
    from tests.pki import make_deploy_pki

    pems = make_deploy_pki(tmp_path)
    assert {"receiver-server", "channel-client", "sender-client", "demo-client"} <= set(pems)
    assert all(p.cert.exists() and p.key.exists() for p in pems.values())
