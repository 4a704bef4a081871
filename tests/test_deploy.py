"""The replicated deployment (docker-compose.yml + deploy/nginx.conf) agrees with the app: no
Docker engine runs the tests, so what can be checked without one is checked here: the
services, the database URL the replicas get, the port they listen on, and that the load
balancer spreads requests over exactly those replicas and lets every valid request through."""

from __future__ import annotations

import ast
import json
import re

import pytest
from sqlalchemy import make_url

from proctor.api.main import body_limits
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
    limit_for = body_limits(Settings())
    assert allowed >= max(limit_for(p) for p in ("/students", "/analyze_frame", "/liveness"))


def test_the_replicas_need_keys(services: dict) -> None:
    """Behind the load balancer no request comes from loopback, so a replica without keys
    would refuse them all: compose refuses to start without an admin key instead."""
    for name in REPLICAS:
        environment = services[name]["environment"]
        assert re.fullmatch(r"\$\{PROCTOR_ADMIN_KEYS:\?[^}]+\}", environment["PROCTOR_ADMIN_KEYS"])
        assert environment["PROCTOR_CLIENT_KEYS"] == "${PROCTOR_CLIENT_KEYS:-}"
        assert "PROCTOR_OPEN_ACCESS" not in environment


# --------------------------------------------------------------------------- #
# The Dockerfile, and the Hugging Face Space that builds it
# --------------------------------------------------------------------------- #

#: The Dockerfile's optional mirror source: a folder of the build context, if there is one.
MIRROR_GLOB = "${PROCTOR_MODEL_MIRROR}*"
#: Every field of the Spaces configuration reference
#: (https://huggingface.co/docs/hub/spaces-config-reference), plus the Hub's repository card
#: fields a Space README may carry (license, short_description).
SPACE_FIELDS = {
    "title",
    "emoji",
    "colorFrom",
    "colorTo",
    "sdk",
    "python_version",
    "sdk_version",
    "suggested_hardware",
    "suggested_storage",
    "app_file",
    "app_port",
    "base_path",
    "fullWidth",
    "models",
    "datasets",
    "tags",
    "pinned",
    "hf_oauth",
    "hf_oauth_redirect_path",
    "disable_embedding",
    "custom_headers",
    "license",
    "short_description",
}
SPACE_COLORS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (word.upper(), rest.strip())
        for word, _, rest in (line.partition(" ") for line in lines)
        if word and not word.startswith("#")
    ]


def stages(dockerfile: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """The instructions of each ``FROM`` stage."""
    found: list[list[tuple[str, str]]] = []
    for instruction in dockerfile:
        if instruction[0] == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def arg_defaults(dockerfile: list[tuple[str, str]]) -> dict[str, str]:
    return dict(rest.split("=", 1) for word, rest in dockerfile if word == "ARG" and "=" in rest)


def front_matter() -> dict:
    """The YAML block at the top of the root README.md, which Spaces read."""
    match = re.match(r"---\n(.*?)\n---\n", (ROOT / "README.md").read_text(), re.DOTALL)
    assert match, "README.md must start with the Space's YAML front matter"
    return yaml.safe_load(match.group(1))


def test_the_dockerfile_copies_only_what_the_repository_has(
    dockerfile: list[tuple[str, str]],
) -> None:
    """Every COPY source from the build context is in the repository and not docker-ignored,
    except the mirror glob, whose COPY always has a source that exists (the legacy builder
    refuses a COPY with none; BuildKit accepts a glob matching nothing). The mirror folder is
    git-ignored, not docker-ignored: weights reach the builder, never the repository."""
    docker_ignored = set((ROOT / ".dockerignore").read_text().split())
    copies = [rest.split() for word, rest in dockerfile if word == "COPY"]
    from_context = [words[:-1] for words in copies if not words[0].startswith("--from=")]
    assert [MIRROR_GLOB in sources for sources in from_context].count(True) == 1
    for sources in from_context:
        present = [s for s in sources if s != MIRROR_GLOB]
        assert present, "a COPY of only the optional mirror fails on the legacy builder"
        for source in present:
            assert (ROOT / source).exists() and not re.search(r"[*?\[]", source), source
            assert source not in docker_ignored, f"{source} is copied but docker-ignored"
    mirror = arg_defaults(dockerfile)["PROCTOR_MODEL_MIRROR"]
    assert f"/{mirror}/" in (ROOT / ".gitignore").read_text().split()
    assert mirror not in docker_ignored


def test_provisioning_in_the_build_reads_the_mirror_and_the_licence_policy(
    dockerfile: list[tuple[str, str]],
) -> None:
    build, runtime = stages(dockerfile)
    (mirror_dest,) = [rest.split()[-1] for word, rest in build if MIRROR_GLOB in rest]
    (fetch,) = [rest for word, rest in build if word == "RUN" and "tools.models fetch" in rest]
    assert f"--mirror {mirror_dest.rstrip('/')} " in fetch
    # PERMISSIVE_ONLY: one default for the whole file, declared in both stages, handed to
    # provisioning and to the service it ships.
    assert arg_defaults(dockerfile)["PERMISSIVE_ONLY"] in {"true", "false"}
    assert dockerfile[0] == (
        "ARG",
        f"PERMISSIVE_ONLY={arg_defaults(dockerfile)['PERMISSIVE_ONLY']}",
    )
    for stage in (build, runtime):
        assert ("ARG", "PERMISSIVE_ONLY") in stage
    assert fetch.startswith("PROCTOR_PERMISSIVE_ONLY=${PERMISSIVE_ONLY} ")
    (env,) = [rest.split() for word, rest in runtime if word == "ENV"]
    assert "PROCTOR_PERMISSIVE_ONLY=${PERMISSIVE_ONLY}" in env
    # What the runtime stage takes from the build stage is what the build stage made.
    workdir = dict(build)["WORKDIR"]
    models = Settings.model_fields["models_dir"].default
    taken = [rest.split()[1] for word, rest in runtime if rest.startswith("--from=build ")]
    assert taken == ["/app/.venv", f"{workdir}/{models}"]
    assert any("-m venv /app/.venv" in rest for word, rest in build if word == "RUN")


def test_the_dockerfile_names_only_settings_that_exist(dockerfile: list[tuple[str, str]]) -> None:
    """Each PROCTOR_* variable it sets is a Settings field (nested ones through ``__``)."""
    names = set(re.findall(r"\bPROCTOR_(\w+?)(?==)", " ".join(r for _, r in dockerfile)))
    assert names == {"MODEL_MIRROR", "PERMISSIVE_ONLY"}
    for name in names:
        model: type = Settings
        *sections, field = name.lower().split("__")
        for section in sections:
            model = model.model_fields[section].annotation
        assert field in model.model_fields, f"PROCTOR_{name} is not a setting"


def test_the_image_serves_app_on_the_documented_port(dockerfile: list[tuple[str, str]]) -> None:
    """EXPOSE, PORT, the Space's app_port and the README agree, and CMD serves app:app."""
    (exposed,) = [int(rest) for word, rest in dockerfile if word == "EXPOSE"]
    assert exposed == app_port() == front_matter()["app_port"]
    readme = (ROOT / "README.md").read_text()
    assert f"docker run -p {exposed}:{exposed} " in readme
    (cmd,) = [json.loads(rest) for word, rest in dockerfile if word == "CMD"]
    command = " ".join(cmd)
    assert 'uvicorn app:app --host "$HOST" --port "$PORT"' in command
    env = dict(
        item.split("=", 1) for word, rest in dockerfile if word == "ENV" for item in rest.split()
    )
    assert env["HOST"] == "0.0.0.0" and int(env["PORT"]) == exposed
    module = ast.parse((ROOT / "app.py").read_text())
    assert any(
        isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["app"]
        for node in module.body
    ), "app.py defines no module-level app"


def test_the_space_reads_its_configuration_from_the_root_readme(
    dockerfile: list[tuple[str, str]],
) -> None:
    """The fields the Spaces configuration reference documents, with valid values: a Docker
    Space that builds the repository's Dockerfile and runs it as uid 1000, as Spaces do."""
    space = front_matter()
    assert set(space) <= SPACE_FIELDS, sorted(set(space) - SPACE_FIELDS)
    assert space["sdk"] == "docker" and (ROOT / "Dockerfile").is_file()
    assert isinstance(space["title"], str) and space["title"]
    assert isinstance(space["emoji"], str) and space["emoji"]
    assert {space["colorFrom"], space["colorTo"]} <= SPACE_COLORS
    assert isinstance(space["app_port"], int) and isinstance(space["pinned"], bool)
    assert len(space.get("short_description", "")) <= 60  # the Hub refuses longer ones
    assert not (ROOT / ".huggingface").exists(), "the Space reads the root README only"
    (user,) = [rest for word, rest in stages(dockerfile)[-1] if word == "USER"]
    assert any(f"--uid 1000 {user}" in rest for word, rest in dockerfile if word == "RUN")
