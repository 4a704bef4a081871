"""The replicated deployment (docker-compose.yml + deploy/nginx.conf) agrees with the app: no
Docker engine runs the tests, so what can be checked without one is checked here: the
services, the database URL the replicas get, the port they listen on, and that the load
balancer spreads requests over exactly those replicas and lets every valid request through."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import make_url

from proctor.api.main import BodySizeLimit, create_app
from proctor.settings import Settings
from proctor.store.db import Database
from tests.conftest import ROOT

yaml = pytest.importorskip("yaml", reason="PyYAML (from uvicorn[standard]) parses the compose file")

REPLICAS = ("proctor-1", "proctor-2")
SIZES = {"k": 1024, "m": 1024**2, "g": 1024**3}


def interpolate(value: str) -> str:
    """Compose's ``${VAR:-default}`` with nothing set: the default."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


@pytest.fixture(scope="module")
def nginx() -> str:
    return (ROOT / "deploy" / "nginx.conf").read_text()


def directive(config: str, name: str) -> list[str]:
    return re.findall(rf"^\s*{name}\s+([^;]+);", config, re.MULTILINE)


def app_port() -> int:
    """The port the image serves on (the Dockerfile's PORT, which its CMD passes to uvicorn)."""
    (port,) = re.findall(r"\bPORT=(\d+)", (ROOT / "Dockerfile").read_text())
    return int(port)


def test_the_services(services: dict) -> None:
    assert set(services) == {"db", "lb", *REPLICAS}
    assert services["db"]["image"] == "postgres:16"
    assert services["db"]["healthcheck"]["test"]
    volume = services["db"]["volumes"][0].split(":")
    assert volume[1] == "/var/lib/postgresql/data" and not volume[0].startswith((".", "/"))
    for name in REPLICAS:
        replica = services[name]
        assert (ROOT / replica["build"] / "Dockerfile").is_file()
        assert replica["depends_on"]["db"]["condition"] == "service_healthy"
        assert "ports" not in replica  # reached only through the load balancer


def test_replicas_select_the_compose_database(services: dict) -> None:
    database = services["db"]["environment"]
    for name in REPLICAS:
        url = interpolate(services[name]["environment"]["PROCTOR_DATABASE_URL"])
        settings = Settings(database_url=url)
        assert Database(settings.store_url).dialect == "postgresql"
        parsed = make_url(settings.store_url)
        assert (parsed.drivername, parsed.host, parsed.port) == ("postgresql+psycopg", "db", 5432)
        assert parsed.username == database["POSTGRES_USER"]
        assert parsed.database == database["POSTGRES_DB"]
        assert parsed.password == interpolate(database["POSTGRES_PASSWORD"])


def test_the_load_balancer_round_robins_over_both_replicas(services: dict, nginx: str) -> None:
    (upstream,) = re.findall(r"upstream\s+(\w+)\s*\{([^}]*)\}", nginx)
    name, body = upstream
    assert sorted(directive(body, "server")) == [f"{r}:{app_port()}" for r in REPLICAS]
    assert not re.search(r"\b(ip_hash|hash|least_conn|sticky)\b", body)  # round-robin
    assert directive(nginx, "proxy_pass") == [f"http://{name}"]
    balancer = services["lb"]
    assert balancer["image"].startswith("nginx")
    mounted = {v.split(":")[0]: v.split(":")[1] for v in balancer["volumes"]}
    assert mounted["./deploy/nginx.conf"] == "/etc/nginx/conf.d/default.conf"
    (published,) = balancer["ports"]
    (listen,) = directive(nginx, "listen")
    assert published == f"{app_port()}:{listen}"
    assert set(balancer["depends_on"]) == set(REPLICAS)


def test_the_load_balancer_lets_the_largest_valid_request_through(nginx: str) -> None:
    (size,) = directive(nginx, "client_max_body_size")
    allowed = int(size[:-1]) * SIZES[size[-1].lower()]
    app = create_app(Settings())
    (limit,) = [m.kwargs["max_bytes"] for m in app.user_middleware if m.cls is BodySizeLimit]
    assert allowed >= limit
