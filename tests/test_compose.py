"""docker-compose.yml and the Dockerfile against the code: the search attributes registered are
the workflows' with their types, every `cob` command a service runs parses in the CLI, every
variable a cob service is given is one the code reads and the worker is given all it needs,
every service others wait on says when it is ready, and the image holds every package
pyproject.toml installs. Where `docker compose` (or docker-compose) works, it must accept the
file; this machine has a docker client without compose, so that one skips here."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from temporalio.common import SearchAttributeIndexedValueType
from typer.main import get_command

from cli.main import app
from contract import search_attributes
from tests.test_layout import PACKAGES

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict] = COMPOSE["services"]
OURS = {name: s for name, s in SERVICES.items() if "build" in s}  # the cob image's services
# What a worker cannot run without in the compose shape (README, Configuration).
WORKER_NEEDS = {
    "TEMPORAL_ADDRESS", "DATABASE_URL", "COB_PAYER_URL", "COB_HOME", "COB_PAYLOAD_KEYS",
    "COB_METRICS_ADDRESS",
}  # fmt: skip


def command_text(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def depended_on() -> dict[str, set[str]]:
    """Each service others wait on -> the conditions they wait for."""
    waits: dict[str, set[str]] = {}
    for name, service in SERVICES.items():
        needs = service.get("depends_on", {})
        assert isinstance(needs, dict), f"{name}: depends_on without conditions"
        for target, how in needs.items():
            waits.setdefault(target, set()).add(how["condition"])
    return waits


def one_shots() -> set[str]:
    return {name for name, conditions in depended_on().items()
            if "service_completed_successfully" in conditions}  # fmt: skip


def test_the_search_attributes_registered_are_the_workflows_with_their_types():
    registered = re.findall(
        r"--name (\w+) --type (\w+)", command_text(SERVICES["temporal-namespace"])
    )
    declared = [
        (key.name, SearchAttributeIndexedValueType(key.indexed_value_type).name.title())
        for key in search_attributes.ALL
    ]
    assert sorted(registered) == sorted(declared)
    assert len(registered) == len(set(registered))


def _parsed(command, args: list[str], path: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The command path `args` name in the CLI, their options parsed (an unknown command,
    option or value raises)."""
    context = command.make_context("cob", list(args))
    if hasattr(command, "resolve_command"):  # a group: on to its subcommand
        name, sub, rest = command.resolve_command(
            context, [*context._protected_args, *context.args]
        )
        return _parsed(sub, rest, (*path, name))
    return path


def test_every_cob_command_the_services_run_exists_in_the_cli():
    root = get_command(app)
    run = {name: s["command"] for name, s in OURS.items()}
    assert all(command[0] == "cob" for command in run.values()), run
    paths = {name: _parsed(root, command[1:]) for name, command in run.items()}
    assert paths == {
        "codec-server": ("codec-server",),
        "ledger-schema": ("db", "upgrade"),
        "payers": ("payers", "serve"),
        "worker": ("worker",),
        "api": ("api",),
    }


def test_parsing_a_command_the_cli_lacks_fails():
    root = get_command(app)
    for wrong in (["db", "migrate"], ["worker", "--metrics"], ["payers", "serve", "--port", "x"]):
        with pytest.raises(Exception, match="No such|valid integer"):
            _parsed(root, wrong)


def literals_in_the_code() -> set[str]:
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found.add(node.value)
    return found


def test_every_variable_a_cob_service_is_given_is_read_by_the_code():
    literals = literals_in_the_code()
    given = {name: set(s.get("environment", {})) for name, s in OURS.items()}
    unread = {name: sorted(v - literals) for name, v in given.items() if v - literals}
    assert unread == {}
    assert WORKER_NEEDS <= given["worker"], sorted(WORKER_NEEDS - given["worker"])
    assert WORKER_NEEDS <= literals


def test_the_workers_metrics_are_served_published_and_checked_on_one_port():
    worker = SERVICES["worker"]
    port = worker["environment"]["COB_METRICS_ADDRESS"].rsplit(":", 1)[1]
    assert worker["deploy"]["replicas"] >= 2
    assert all(published.endswith(f":{port}") for published in worker["ports"])
    assert f"127.0.0.1:{port}/metrics" in " ".join(worker["healthcheck"]["test"])


def test_every_service_others_wait_on_says_when_it_is_ready():
    waits = depended_on()
    shots = one_shots()
    for target, conditions in waits.items():
        assert conditions <= {"service_healthy", "service_completed_successfully"}, target
        assert len(conditions) == 1, f"{target} is waited on two ways"
        if "service_healthy" in conditions:
            assert "healthcheck" in SERVICES[target], f"{target} has no healthcheck"
    for name, service in SERVICES.items():  # every long-running service, depended on or not
        if name not in shots:
            assert "healthcheck" in service, f"{name} has no healthcheck"
        elif "build" in service:
            assert service["restart"] == "no", f"{name} runs once"
    assert shots == {"temporal-schema", "temporal-namespace", "ledger-schema"}


def test_workers_wait_for_the_ledger_schema_and_the_search_attributes():
    for name in ("worker", "api"):
        needs = SERVICES[name]["depends_on"]
        assert needs["ledger-schema"]["condition"] == "service_completed_successfully"
        assert needs["temporal-namespace"]["condition"] == "service_completed_successfully"
    assert SERVICES["temporal-namespace"]["depends_on"]["temporal"]["condition"] == (
        "service_healthy"
    )
    assert "temporal operator cluster health" in command_text(SERVICES["temporal-namespace"])


def test_temporal_runs_the_server_image_with_admin_tools_of_its_version():
    server = SERVICES["temporal"]["image"]
    assert server.startswith("temporalio/server:")  # auto-setup is deprecated
    version = server.split(":", 1)[1]
    for one_shot in ("temporal-schema", "temporal-namespace"):
        assert SERVICES[one_shot]["image"] == f"temporalio/admin-tools:{version}"
    assert "update-schema" in command_text(SERVICES["temporal-schema"])


def test_the_image_copies_every_package_the_project_installs():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    installed = {p.rstrip("*") for p in config["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = set()
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        words = line.split()
        if words[:1] == ["COPY"]:
            copied |= {source.rstrip("/") for source in words[1:-1]}
    assert installed <= copied, sorted(installed - copied)
    assert {"pyproject.toml", "README.md"} <= copied  # pip install . reads both
    assert set(PACKAGES) == installed


def test_every_file_a_service_mounts_is_in_the_repository():
    mounted = [
        volume.split(":")[0]
        for service in SERVICES.values()
        for volume in service.get("volumes", [])
        if volume.startswith(".")
    ]
    assert mounted == ["./deploy/temporal-dynamicconfig.yaml"]
    assert all((ROOT / path).is_file() for path in mounted)


def compose_command() -> list[str] | None:
    """`docker compose` or `docker-compose`, when one is installed and answers."""
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            continue
        probe = subprocess.run([*command, "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return command
    return None


@pytest.mark.skipif(compose_command() is None, reason="no docker compose here")
def test_docker_compose_accepts_the_file():
    command = compose_command()
    assert command is not None
    env = {**os.environ, "COB_PAYLOAD_KEYS": "k1:" + "A" * 43 + "="}
    checked = subprocess.run(
        [*command, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
