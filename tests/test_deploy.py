"""deploy/: the Kubernetes base rendered by kustomize, the Compose file checked against the
Compose Specification, the balancer's file by HAProxy itself, and all of them held to the
commands, ports and settings the rest of the project uses (no daemon, no cluster here)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from pydantic import SecretStr

from sportello.production import COMMANDS, sender_rules
from sportello.run_rasa import container_arguments, prepare_command
from sportello.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
RASA_DIR = "/rasa"
# Settings holding a secret, or a URL that carries a password: never written in deploy/.
SECRET_SETTINGS = {
    name.upper() for name, field in Settings.model_fields.items()
    if field.annotation is SecretStr or SecretStr in get_args(field.annotation)
} | {"DATABASE_URL", "TRACKER_STORE_URL", "HANDOFF_DATABASE_URL", "REDIS_URL", "RASA_TRACKER_PASSWORD",
     "RASA_REDIS_PASSWORD"}
# The process each Deployment (and Compose service) runs, by the name of its COMMANDS entry.
PROCESSES = {"backoffice": "backoffice", "actions": "actions", "bot": "bot"}


def _version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def _rasa_version() -> str:
    found = re.search(r"rasa==([\d.]+)", (ROOT / "Makefile").read_text())
    assert found
    return found.group(1)


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    done = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY / "k8s")], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def _of(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def _containers(deployment: dict[str, Any], init: bool = False) -> list[dict[str, Any]]:
    spec = deployment["spec"]["template"]["spec"]
    return list(spec.get("initContainers", []) if init else spec["containers"])


def _all_containers(docs: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for deployment in _of(docs, "Deployment").values():
        yield from _containers(deployment)
        yield from _containers(deployment, init=True)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_the_base_renders_the_four_processes_and_the_balancer(rendered: list[dict[str, Any]]) -> None:
    deployments = _of(rendered, "Deployment")
    assert set(deployments) == {"backoffice", "actions", "rasa", "bot", "bot-balancer"}
    services = _of(rendered, "Service")
    assert {"backoffice", "backoffice-public", "actions", "rasa", "bot-replicas", "bot-balancer"} <= set(services)
    for name, service in services.items():
        selector = service["spec"]["selector"]
        assert any(d["spec"]["template"]["metadata"]["labels"].items() >= selector.items()
                   for d in deployments.values()), f"Service {name} selects no pod"
    assert services["bot-replicas"]["spec"]["clusterIP"] == "None", "the balancer finds the bots by DNS"
    ingress = _of(rendered, "Ingress")["sportello"]
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
    assert backends == {"bot-balancer", "backoffice-public"}, "only the webhook and the public pages are exposed"


def test_every_deployment_is_probed_on_its_health_and_readiness(rendered: list[dict[str, Any]]) -> None:
    for name, deployment in _of(rendered, "Deployment").items():
        for container in _containers(deployment):
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            for probe in ("readinessProbe", "livenessProbe"):
                http = container[probe]["httpGet"]
                assert http["port"] in ports, f"{name}: {probe} on a port the container has not"
                assert http["path"] in {"/health", "/ready", "/"}, f"{name}: {probe} {http['path']}"
    bot = _containers(_of(rendered, "Deployment")["bot"])[0]
    assert bot["readinessProbe"]["httpGet"]["path"] == "/ready", "a bot is ready once Rasa answers it"
    rasa = _containers(_of(rendered, "Deployment")["rasa"])[0]
    assert rasa["startupProbe"]["failureThreshold"] * rasa["startupProbe"]["periodSeconds"] >= 300


def test_every_image_is_pinned_ours_at_the_projects_version_rasas_at_the_tested_one(
    rendered: list[dict[str, Any]], compose: dict[str, Any]
) -> None:
    images = {c["image"] for c in _all_containers(rendered)}
    images |= {s["image"] for s in compose["services"].values() if "image" in s}
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name and tag and tag != "latest" and "/" not in tag, f"{image} is not pinned"
    assert f"sportello-digitale:{_version()}" in images
    assert f"rasa/rasa:{_rasa_version()}-full" in images, "Rasa's official image, the version the tests run"


def test_the_commands_are_those_of_the_production_topology(
    rendered: list[dict[str, Any]], compose: dict[str, Any]
) -> None:
    deployments = _of(rendered, "Deployment")
    services = compose["services"]
    for name, process in PROCESSES.items():
        assert _containers(deployments[name])[0]["command"] == list(COMMANDS[process])
        assert services[name]["command"] == list(COMMANDS[process])
    assert _containers(deployments["backoffice"], init=True)[0]["command"] == list(COMMANDS["migrate"])
    assert services["migrate"]["command"] == list(COMMANDS["migrate"])
    assert _containers(deployments["rasa"], init=True)[0]["command"] == prepare_command(RASA_DIR)
    assert services["rasa-prepare"]["command"] == prepare_command(RASA_DIR)
    assert _containers(deployments["rasa"])[0]["args"] == container_arguments(RASA_DIR)
    assert services["rasa"]["command"] == container_arguments(RASA_DIR)
    # Rasa's image imports the pipeline's component (config.yml: nlu.entity_cleaner) from the volume.
    rasa_env = {e["name"]: e.get("value") for e in _containers(deployments["rasa"])[0].get("env", [])}
    assert rasa_env.get("PYTHONPATH") == RASA_DIR
    assert services["rasa"]["environment"]["PYTHONPATH"] == RASA_DIR
    # Each command's program is the image's .venv, run from /app (deploy/Dockerfile).
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "WORKDIR /app" in dockerfile and "python -m venv .venv" in dockerfile
    for package in ("backend_client", "backoffice", "bot", "actions", "sportello", "nlu"):
        assert f"COPY {package}/ {package}/" in dockerfile
        assert f"!{package}/" in (DEPLOY / "Dockerfile.dockerignore").read_text()


def test_compose_runs_the_same_replicas_as_kubernetes(rendered: list[dict[str, Any]], compose: dict[str, Any]) -> None:
    deployments = _of(rendered, "Deployment")
    for name in ("backoffice", "actions", "rasa", "bot"):
        assert compose["services"][name]["deploy"]["replicas"] == deployments[name]["spec"]["replicas"] >= 2
    assert {"postgres", "redis", "bot-balancer"} <= set(compose["services"])


def _secret_literals(rendered: list[dict[str, Any]], compose: dict[str, Any]) -> list[str]:
    found = [f"Secret {d['metadata']['name']}" for d in rendered if d["kind"] == "Secret"]
    for config in _of(rendered, "ConfigMap").values():
        found += [f"ConfigMap {key}" for key in config.get("data", {}) if key in SECRET_SETTINGS]
    for container in _all_containers(rendered):
        found += [f"env {e['name']}" for e in container.get("env", []) if e["name"] in SECRET_SETTINGS]
    for name, service in compose["services"].items():
        environment = service.get("environment", {})
        found += [f"compose {name} {key}" for key in environment if key in SECRET_SETTINGS or "PASSWORD" in key
                  and not key.endswith("_FILE")]
    return found


def test_no_secret_is_written_in_deploy(rendered: list[dict[str, Any]], compose: dict[str, Any]) -> None:
    assert _secret_literals(rendered, compose) == []
    defaults = [str(f.default.get_secret_value()) for f in Settings.model_fields.values() if isinstance(f.default, SecretStr)]
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert not any(value in text for value in defaults), f"{path.name} holds a development secret"
            assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", text), f"{path.name} holds a URL with a password"
    # The check can fail: a token written as a literal is caught.
    tainted = [*rendered, {"kind": "Secret", "metadata": {"name": "oops"}}]
    assert _secret_literals(tainted, compose) == ["Secret oops"]


def test_the_shared_settings_are_settings_of_the_project_and_match_the_ports(rendered: list[dict[str, Any]]) -> None:
    config = dict(line.split("=", 1) for line in (DEPLOY / "k8s" / "config.env").read_text().split() if line)
    # Read by Rasa and by glibc (two malloc arenas, README Prestazioni), not by our settings.
    unknown = {key for key in config if key.lower() not in Settings.model_fields} - {"RASA_TELEMETRY_ENABLED", "MALLOC_ARENA_MAX"}
    assert unknown == set(), "a name no process reads"
    deployments = _of(rendered, "Deployment")

    def ports(name: str) -> set[int]:
        return {p["containerPort"] for p in _containers(deployments[name])[0]["ports"]}

    assert {int(config["BACKOFFICE_PORT"]), int(config["BACKOFFICE_PUBLIC_PORT"])} == ports("backoffice")
    assert {int(config["ACTION_SERVER_PORT"])} == ports("actions")
    assert {int(config["WEBHOOK_PORT"]), int(config["BOT_HEALTH_PORT"])} == ports("bot")
    assert config["RASA_URL"].endswith(":5005") and ports("rasa") == {5005}
    services = _of(rendered, "Service")
    for key, service in (("BACKOFFICE_URL", "backoffice"), ("ACTION_SERVER_URL", "actions"), ("RASA_URL", "rasa")):
        port = int(config[key].split(":")[2].split("/")[0])
        assert config[key].startswith(f"http://{service}:"), f"{key} names the {service} Service"
        assert port in {p["port"] for p in services[service]["spec"]["ports"]}, f"{key}: the Service's port"


def test_compose_is_valid_by_the_compose_specification(tmp_path: Path) -> None:
    checker = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or "check-jsonschema"

    def check(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([checker, "--builtin-schema", "vendor.compose-spec", str(path)],
                              capture_output=True, text=True, check=False, timeout=60)

    done = check(DEPLOY / "compose.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "compose.yaml"
    broken.write_text((DEPLOY / "compose.yaml").read_text().replace("    healthcheck:", "    health_check:", 1))
    assert check(broken).returncode != 0, "the schema is really checked"


def test_the_bot_balancer_reads_the_sender_as_the_production_topology_does() -> None:
    cfg = (DEPLOY / "k8s" / "haproxy.cfg").read_text()
    assert sender_rules() in cfg
    assert "balance hdr(X-Telegram-Sender)" in cfg and "hash-type consistent" in cfg
    done = subprocess.run(["haproxy", "-c", "-f", str(DEPLOY / "k8s" / "haproxy.cfg")], capture_output=True,
                          text=True, check=False, env={**os.environ, "BOT_ADDRESS": "bot-replicas"}, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_init_step_of_rasa_writes_its_files_with_no_secret_in_them(tmp_path: Path) -> None:
    from sportello.run_rasa import prepare

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, tracker_store_url="postgresql+asyncpg://rasa:tracker-pw@db:5432/rasa",
        redis_url="redis://:redis-pw@redis:6379/2", action_server_url="http://actions:5055/webhook",
    )
    prepare(tmp_path / "rasa", settings)
    assert {p.name for p in (tmp_path / "rasa").iterdir()} == {"endpoints.yml", "credentials.yml", "current.tar.gz", "nlu"}
    # The pipeline's own component, which the model names, is there for Rasa's image to import.
    assert (tmp_path / "rasa" / "nlu" / "entity_cleaner.py").is_file()
    text = (tmp_path / "rasa" / "endpoints.yml").read_text()
    assert "tracker-pw" not in text and "redis-pw" not in text
    endpoints = yaml.safe_load(text)
    assert endpoints["tracker_store"]["password"] == "${RASA_TRACKER_PASSWORD}"
    assert endpoints["lock_store"]["password"] == "${RASA_REDIS_PASSWORD}"
    assert endpoints["lock_store"]["url"] == "redis" and endpoints["tracker_store"]["url"] == "db"
    assert endpoints["action_endpoint"]["url"] == "${ACTION_SERVER_URL}"
