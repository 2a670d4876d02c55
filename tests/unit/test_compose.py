"""docker-compose.yaml, Dockerfile and .env.example, checked as far as possible without a Docker engine.

The compose file must parse; every Airflow command a service, health check or the init script runs must
exist in the Airflow that requirements.txt pins (the image installs exactly that file: parsed with
Airflow's own CLI parser under the services' environment, CeleryExecutor included); every bind-mounted
path must exist in the repo and land where ``cloudcost.paths`` looks for it; every ``${VAR}`` must be
documented in .env.example, which holds no secret, nor does the compose file; long-running services have
health checks; the optional services sit behind profiles.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO, VENV_BIN

COMPOSE = REPO / "docker-compose.yaml"
DOCKERFILE = REPO / "Dockerfile"
ENV_EXAMPLE = REPO / ".env.example"
IMAGE_ROOT = "/opt/cloudcost"  # cloudcost.paths.REPO_ROOT inside the image: plugins/cloudcost/paths.py -> parents[2]
CODE_DIRS = ("dags", "plugins", "procedures", "schemas", "configs")
CORE = {
    "postgres",
    "redis",
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
}
OPTIONAL = {"azurite": "sandbox", "moto": "sandbox", "metabase": "dashboard", "warehouse-snapshot": "dashboard"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|PRIVATE_KEY", re.IGNORECASE)
REFERENCE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")  # ${VAR...}, not the shell's $${VAR}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


def _ours(service: dict) -> bool:
    """A service running the image built from our Dockerfile."""
    return "build" in service


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "environment as a mapping"
    return {key: str(value) for key, value in env.items()}


def _interpolate(value: str) -> str:
    """What compose makes of a value with every variable at its default (or a placeholder)."""

    def one(match: re.Match) -> str:
        name, rest = match.group(1), match.group(2) or ""
        return rest[2:] if rest.startswith(":-") else f"x-{name.lower()}"

    return re.sub(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}", one, value).replace("$$", "$")


def _airflow_commands(compose: dict) -> dict[str, list[str]]:
    """Every ``airflow ...`` command our services run: commands, health checks and the init script's lines."""
    found: dict[str, list[str]] = {}
    for name, service in compose["services"].items():
        if not _ours(service):
            continue
        command = service.get("command")
        if isinstance(command, str):
            command = shlex.split(command)
        if command and command[0] == "airflow":
            found[f"{name}: command"] = command[1:]
        elif command and command[0] == "bash":
            for number, line in enumerate(command[-1].splitlines(), 1):
                words = shlex.split(line)
                if words and words[0] == "airflow":
                    found[f"{name}: script line {number}"] = words[1:]
        test = (service.get("healthcheck") or {}).get("test") or []
        if test[:2] == ["CMD", "airflow"]:
            found[f"{name}: healthcheck"] = test[2:]
    return found


def test_compose_parses_with_the_services_the_deployment_needs(compose: dict) -> None:
    services = compose["services"]
    assert CORE | set(OPTIONAL) <= set(services)
    for name in CORE - {"postgres", "redis"}:
        env = _env(services[name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:"), name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://airflow:"), name
        assert "@postgres:5432/airflow" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/", name
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${"), f"{name}: one shared JWT secret, from .env"
    commands = {name: (services[name].get("command") or [None, None])[:3] for name in CORE - {"postgres", "redis"}}
    assert commands["airflow-scheduler"][:2] == ["airflow", "scheduler"]
    assert commands["airflow-dag-processor"][:2] == ["airflow", "dag-processor"]
    assert commands["airflow-triggerer"][:2] == ["airflow", "triggerer"]
    assert commands["airflow-apiserver"][:2] == ["airflow", "api-server"]
    assert commands["airflow-worker"] == ["airflow", "celery", "worker"]


def test_every_database_url_names_a_driver_of_our_venv(compose: dict) -> None:
    """SQLAlchemy 2.1 reads ``postgresql://`` as psycopg 3, which we do not install: a result backend spelled
    so made both Celery workers exit at startup. Every URL of every service must name an importable driver."""
    from cloudcost.sqlalchemy_urls import MissingDriver, require_importable_driver

    checked = 0
    for name, service in compose["services"].items():
        for key, value in _env(service).items():
            if key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND"):
                require_importable_driver(f"{name}: {key}", re.sub(r"\$\{[^}]+\}", "secret", value))
                checked += 1
    assert checked >= 2 * (len(CORE) - 2), "each Airflow service carries both URLs"
    with pytest.raises(
        MissingDriver,
        match=r"RESULT_BACKEND: postgresql://airflow:\*\*\*@postgres:5432/airflow "
        r"needs the driver postgresql\+psycopg, which is not installed",
    ):
        require_importable_driver("RESULT_BACKEND", "db+postgresql://airflow:secret@postgres:5432/airflow")


def test_init_migrates_imports_the_pools_and_writes_the_users(compose: dict) -> None:
    init = compose["services"]["airflow-init"]
    script = [shlex.split(line) for line in init["command"][-1].splitlines() if line.strip()]
    assert ["airflow", "db", "migrate"] in script
    assert ["cloudcost", "airflow-pools", "--out", "/tmp/pools.json"] in script
    assert ["airflow", "pools", "import", "/tmp/pools.json"] in script
    assert init["restart"] == "no"
    env = _env(init)
    users = dict(user.split(":") for user in env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(","))
    assert users == {"admin": "admin", "pipeline-trigger": "user"}
    passwords = init["command"][-1]
    assert all(f'os.environ["{var}"]' in passwords for var in ("AIRFLOW_ADMIN_PASSWORD", "AIRFLOW_TRIGGER_PASSWORD"))
    assert {"AIRFLOW_ADMIN_PASSWORD", "AIRFLOW_TRIGGER_PASSWORD"} <= set(env)
    for name, service in compose["services"].items():  # only the init service sees the users' passwords
        if name != "airflow-init":
            assert not {"AIRFLOW_ADMIN_PASSWORD", "AIRFLOW_TRIGGER_PASSWORD"} & set(_env(service)), name
    api_auth = [v for v in compose["services"]["airflow-apiserver"]["volumes"] if v.startswith("airflow-auth:")]
    assert api_auth == ["airflow-auth:/opt/airflow/auth"], "the api-server reads the password file init writes"


def test_every_command_exists_in_the_pinned_airflow(compose: dict, tmp_path: Path) -> None:
    """Airflow's own CLI parser (executor and provider commands included) accepts each command as written,
    under the environment the services have; the cloudcost commands of the init script parse too."""
    commands = _airflow_commands(compose)
    assert len(commands) >= 9, commands
    env = {key: _interpolate(value) for key, value in _env(compose["services"]["airflow-scheduler"]).items()}
    env |= {
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/parse-only.db",  # nothing connects
        "PATH": str(VENV_BIN),
    }
    script = f"""
import json, sys
from airflow.cli.cli_parser import get_parser
commands = json.loads({json.dumps(json.dumps(commands))})
bad = {{}}
for where, args in commands.items():
    try:
        get_parser().parse_args(args)
    except SystemExit as exc:
        bad[where] = f"exit {{exc.code}}: airflow {{' '.join(args)}}"
import airflow.providers.celery.executors.celery_executor as celery_executor
assert celery_executor.app.main, "the worker health check's --app"
print(json.dumps(bad))
"""
    result = subprocess.run(
        [str(VENV_BIN / "python"), "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {}

    from cloudcost.cli import build_parser

    init = compose["services"]["airflow-init"]["command"][-1]
    lines = [shlex.split(line) for line in init.splitlines() if line.startswith("cloudcost ")]
    assert lines
    for words in lines:
        assert callable(build_parser().parse_args(words[1:]).func), words


def test_the_image_installs_the_pinned_requirements() -> None:
    """The Dockerfile installs requirements.txt, whose Airflow is the one the tests (and the check above)
    ran; the project is laid out under IMAGE_ROOT like the repo."""
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines() if line.strip() and not line.startswith("#")]
    base = next(line for line in lines if line.startswith("FROM "))
    assert base.startswith("FROM python:3.11"), "the Python requirements.txt is compiled for (make lock)"
    assert "COPY requirements.txt ./" in lines
    installs = " ".join(lines)
    assert re.search(r"pip install --system [^&]*-r requirements\.txt", installs), "installs requirements.txt"
    assert f"WORKDIR {IMAGE_ROOT}" in lines
    for directory in CODE_DIRS:
        assert f"COPY {directory} ./{directory}" in lines
        assert (REPO / directory).is_dir()

    import airflow

    pins = dict(line.split("==", 1) for line in (REPO / "requirements.txt").read_text().splitlines() if "==" in line)
    assert pins["apache-airflow"] == airflow.__version__
    for package in ("apache-airflow-providers-celery", "psycopg2-binary", "asyncpg"):
        assert package in pins, f"{package}: CeleryExecutor and the Postgres metadata database need it"


def test_mounted_paths_exist_and_land_where_the_code_looks(compose: dict) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for volume in service.get("volumes") or []:
            source, target = volume.split(":")[:2]
            if source.startswith("."):
                assert (REPO / source).exists(), f"{name}: {source} is not in the repo"
                relative = Path(source).relative_to(".")
                assert target == f"{IMAGE_ROOT}/{relative}", f"{name}: {volume} must mirror the repo layout"
            else:
                assert source in declared, f"{name}: named volume {source} is not declared"
        if _ours(service):
            env = _env(service)
            assert env["AIRFLOW__CORE__DAGS_FOLDER"] == f"{IMAGE_ROOT}/dags"
            assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == f"{IMAGE_ROOT}/plugins"
            assert env["CLOUDCOST_CONFIG_DIR"] == f"{IMAGE_ROOT}/configs"
            assert any(v.startswith("cloudcost-data:") for v in service.get("volumes") or []), name


def _env_example() -> dict[str, str]:
    entries = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f".env.example: not KEY=value: {line!r}"
            entries[key.strip()] = value.strip()
    return entries


def test_every_variable_is_documented_and_no_secret_is_written() -> None:
    documented = _env_example()
    referenced = set(REFERENCE.findall(COMPOSE.read_text()))
    assert referenced, "the compose file takes its settings from .env"
    assert referenced <= set(documented), f"not in .env.example: {sorted(referenced - set(documented))}"
    assert {"AIRFLOW__CORE__FERNET_KEY", "CLOUDCOST_WAREHOUSE_BACKEND", "CLOUDCOST_BIGQUERY_PROJECT"} <= set(documented)
    assert {"CLOUDCOST_BIGQUERY_LOCATION", "CLOUDCOST_KEY_FILE"} <= set(documented)
    secrets = {key: value for key, value in documented.items() if SECRET_NAME.search(key)}
    assert len(secrets) >= 6 and not any(secrets.values()), f".env.example must leave secrets empty: {secrets}"
    required = set(re.findall(r"\$\{([A-Za-z0-9_]+):\?", COMPOSE.read_text()))
    assert set(secrets) <= required, "a missing secret stops compose instead of starting with an empty one"


def test_no_literal_secret_in_the_compose_file(compose: dict) -> None:
    for name, service in compose["services"].items():
        for key, value in _env(service).items():
            if SECRET_NAME.search(key) and "FILE" not in key:
                assert value.startswith("${"), f"{name}: {key} must come from .env"
        for key, value in _env(service).items():
            assert not re.search(r"://[^:/@]+:[^$@/]+@", value), f"{name}: {key} has a password in a URL"


def test_long_running_services_have_health_checks(compose: dict) -> None:
    for name, service in compose["services"].items():
        if service.get("restart", "no") == "no":
            continue
        test = (service.get("healthcheck") or {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} runs for good but has no health check"


def test_optional_services_sit_behind_profiles(compose: dict) -> None:
    services = compose["services"]
    for name in CORE:
        assert "profiles" not in services[name], f"{name} is part of every deployment"
    for name, profile in OPTIONAL.items():
        assert services[name]["profiles"] == [profile], name
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        assert set(depends) <= set(services), f"{name} depends on an unknown service"
        if name in CORE:
            assert not set(depends) & set(OPTIONAL), f"{name} must not need an optional service"
