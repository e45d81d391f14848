"""The service images, built by `make images` with buildah and run the way the chart runs them.

`make images-test` runs this file (it is not collected by `make test`: a cold build takes minutes). Each image is
mounted from buildah's storage and its entry point started as the image's user on a read-only root with a tmpfs
/tmp, in a mount and PID namespace of its own, on the host network: campaign-api migrates a throwaway database and
serves, the worker consumes from a throwaway RabbitMQ vhost, and each service must answer /health.
Needs root, buildah and debootstrap (apt-get install -y buildah debootstrap), PostgreSQL and RabbitMQ.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import psycopg
import pytest
from psycopg import sql

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("campaign-api", "template-svc", "dispatch-worker", "scheduler")
TAG = "smoke"
ADMIN_URL = os.environ.get("TEST_DATABASE_ADMIN_URL", "postgresql://postgres@localhost:5432/postgres")
ARCHIVES = REPO_ROOT / "dist" / "images-smoke"
INSTALL_HINT = "apt-get install -y buildah debootstrap"
# what a build stage may leave behind and the runtime image must not carry
BUILD_TOOLS = (
    "usr/local/bin/uv",
    "usr/bin/uv",
    "app/.venv/bin/uv",
    "app/.venv/bin/pip",
    "usr/bin/gcc",
    "usr/bin/cc",
    "usr/bin/g++",
    "usr/bin/make",
    "usr/bin/ld",
    "src",
    "var/cache/uv",
    "opt/protoc",
)
NAMESPACES = ("/usr/bin/unshare", "--mount", "--pid", "--fork", "--kill-child")
# run inside the new mount namespace: the image's root read-only, a tmpfs /tmp, then the entry point as the user
RUNNER = r"""
set -eu
root=$1; user=$2; workdir=$3; shift 3
mount --bind "$root" "$root"
mount -o remount,bind,ro "$root"
mount -t tmpfs -o size=64m,mode=1777 tmpfs "$root/tmp"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
exec chroot --userspec="$user" "$root" /usr/bin/env --chdir="$workdir" "$@"
"""


def load_build_tool() -> ModuleType:
    """tools/build_images.py as a module: the smoke checks use its storage settings and image names."""
    spec = importlib.util.spec_from_file_location("build_images", REPO_ROOT / "tools" / "build_images.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_images"] = module
    spec.loader.exec_module(module)
    return module


BUILD_TOOL = load_build_tool()


def buildah(*args: str) -> subprocess.CompletedProcess[str]:
    """buildah on the storage tools/build_images.py fills."""
    binary = shutil.which("buildah")
    if binary is None:
        pytest.fail(f"buildah is missing: {INSTALL_HINT}")
    argv = BUILD_TOOL.Buildah(binary, BUILD_TOOL.CACHE).argv(*args)
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    if result.returncode != 0:
        pytest.fail(f"buildah {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result


def image_name(service: str) -> str:
    """The name the build tool tags the smoke images with."""
    name: str = BUILD_TOOL.image_name(service, TAG)
    return name


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class Image:
    """One built image: its configuration and its root filesystem, mounted from buildah's storage."""

    service: str
    config: dict[str, Any]
    root: Path

    @property
    def env(self) -> dict[str, str]:
        """The image's Env, as a dict."""
        return dict(item.split("=", 1) for item in self.config.get("Env", []))

    def start(self, argv: list[str], env: dict[str, str]) -> Running:
        """Run argv in the image as its user on a read-only root (a process group of its own, output to a file)."""
        user = self.config["User"]
        workdir = self.config.get("WorkingDir") or "/"
        log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by stop()
        process = subprocess.Popen(
            [*NAMESPACES, "/bin/sh", "-c", RUNNER, "runner", str(self.root), user, workdir, *argv],
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        return Running(process, log)

    def run(self, argv: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run argv to completion in the image; its output and exit code."""
        running = self.start(argv, env)
        try:
            running.process.wait(timeout=timeout)
        finally:
            output = stop(running)
        return subprocess.CompletedProcess(argv, running.process.returncode, output, "")


@dataclass(frozen=True, slots=True)
class Running:
    """A process started in an image, and the file its output goes to."""

    process: subprocess.Popen[str]
    log: IO[str]


def stop(running: Running) -> str:
    """Stop a started image process (SIGTERM, then SIGKILL) and return what it printed."""
    process = running.process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
    if running.log.closed:
        return ""
    running.log.seek(0)
    output = running.log.read()
    running.log.close()
    return output


@pytest.fixture(scope="session")
def built() -> None:
    """Build the four images with buildah (tools/build_images.py), once per session."""
    if os.geteuid() != 0:
        pytest.fail("the image checks mount image roots and need root (buildah with vfs storage, unshare, chroot)")
    for tool in ("buildah", "unshare", "chroot"):
        if shutil.which(tool, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin") is None:
            pytest.fail(f"{tool} is missing: {INSTALL_HINT}")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "tools/build_images.py", "--engine", "buildah", "--tag", TAG, "--out", str(ARCHIVES)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=1500,
    )
    if result.returncode != 0:
        pytest.fail(f"tools/build_images.py failed:\n{result.stderr[-5000:]}")
    print(f"images built in {time.monotonic() - started:.0f}s", file=sys.stderr)


@pytest.fixture(scope="session")
def images(built: None) -> Iterator[dict[str, Image]]:
    """Each service's image, its root mounted for the checks."""
    mounted: dict[str, Image] = {}
    containers = []
    try:
        for service in SERVICES:
            inspected = json.loads(buildah("inspect", "--type", "image", image_name(service)).stdout)
            container = buildah("from", "--pull=never", image_name(service)).stdout.strip()
            containers.append(container)
            root = Path(buildah("mount", container).stdout.strip())
            mounted[service] = Image(service, inspected["OCIv1"]["config"], root)
        yield mounted
    finally:
        for container in containers:
            buildah("rm", container)


@pytest.fixture(scope="session")
def database_url(images: dict[str, Image]) -> Iterator[str]:
    """A throwaway database, migrated by the campaign-api image itself (`campaign-api migrate`)."""
    dbname = f"image_smoke_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not answering at {ADMIN_URL}: start it, then rerun ({exc})")
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        try:
            url = f"postgresql://postgres@127.0.0.1:5432/{dbname}"
            migrated = images["campaign-api"].run(["/app/entrypoint", "migrate"], {"DATABASE_URL": url})
            assert migrated.returncode == 0, f"campaign-api migrate in the image failed:\n{migrated.stdout[-3000:]}"
            yield url
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    """A throwaway RabbitMQ vhost: the queues the services declare go away with it."""
    ctl = shutil.which("rabbitmqctl", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    if ctl is None:
        pytest.fail("rabbitmqctl is missing: install and start rabbitmq-server, then rerun")
    vhost = f"image-smoke-{uuid.uuid4().hex[:10]}"
    for args in (["add_vhost", vhost], ["set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"]):
        result = subprocess.run([ctl, "-q", *args], capture_output=True, text=True, check=False, timeout=60)
        if result.returncode != 0:
            pytest.fail(f"rabbitmqctl {' '.join(args)} failed (is RabbitMQ running?):\n{result.stderr}")
    try:
        yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        subprocess.run([ctl, "-q", "delete_vhost", vhost], capture_output=True, check=False, timeout=60)


def wait_for_health(running: Running, port: int, timeout: float = 60) -> int:
    """Poll http://127.0.0.1:port/health until it answers; the HTTP status (fails if the process exits first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            pytest.fail(f"the entry point exited with {running.process.returncode}:\n{stop(running)[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                status: int = response.status
                return status
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    pytest.fail(f"no answer on /health (port {port}) within {timeout:.0f}s:\n{stop(running)[-3000:]}")


@pytest.mark.parametrize("service", SERVICES)
def test_image_runs_as_the_non_root_app_user(images: dict[str, Image], service: str) -> None:
    image = images[service]
    assert image.config["User"] == "10001:10001"
    assert image.config["Entrypoint"] == ["/app/entrypoint"]
    assert os.readlink(image.root / "app" / "entrypoint") == f"/app/.venv/bin/{service}"
    result = image.run(["python", "-c", "import os; print(os.getuid(), os.getgid())"], {})
    assert result.stdout.split() == ["10001", "10001"], result.stdout


@pytest.mark.parametrize("service", SERVICES)
def test_image_has_no_build_tools(images: dict[str, Image], service: str) -> None:
    root = images[service].root
    present = [tool for tool in BUILD_TOOLS if (root / tool).exists() or (root / tool).is_symlink()]
    assert not present, f"{service}: the runtime image carries {present}"
    migrations = sorted((root / "app" / ".venv").glob("lib/python3*/site-packages/campaign_api/migrations/*.sql"))
    if service == "campaign-api":
        assert migrations, "campaign-api's image must carry the SQL migrations"
    else:
        assert not migrations, f"{service} carries migrations it never applies"


@pytest.mark.parametrize("service", SERVICES)
def test_read_only_root_is_enforced_and_tmp_is_writable(images: dict[str, Image], service: str) -> None:
    script = (
        "import errno, pathlib\n"
        "pathlib.Path('/tmp/scratch').write_text('ok')\n"
        "try:\n"
        "    pathlib.Path('/app/written').write_text('no')\n"
        "except OSError as exc:\n"
        "    print('root', errno.errorcode[exc.errno])\n"
    )
    result = images[service].run(["python", "-c", script], {})
    assert result.returncode == 0, result.stdout
    assert result.stdout.split() == ["root", "EROFS"], result.stdout


@pytest.mark.parametrize("service", SERVICES)
def test_archive_is_a_docker_archive_kind_can_load(built: None, service: str) -> None:
    with tarfile.open(ARCHIVES / f"{service}.tar") as archive:
        member = archive.extractfile("manifest.json")
        assert member is not None, "kind load image-archive needs a docker-archive (manifest.json)"
        (manifest,) = json.loads(member.read())
    assert manifest["RepoTags"] == [image_name(service)]
    assert manifest["Layers"]


def test_campaign_api_help_names_its_commands(images: dict[str, Image]) -> None:
    result = images["campaign-api"].run(["/app/entrypoint", "--help"], {})
    assert result.returncode == 0, result.stdout
    for command in ("serve", "migrate", "seed"):
        assert command in result.stdout


def test_every_entry_point_starts_and_answers_health(
    images: dict[str, Image], database_url: str, amqp_url: str
) -> None:
    grpc_port, template_probe, api_port, worker_probe, scheduler_probe = (free_port() for _ in range(5))
    common = {
        "LOG_LEVEL": "INFO",
        "DEPLOYMENT_ENVIRONMENT": "test",  # where the local broker's guest login is accepted (production refuses it)
        "QUEUE_PREFIX": f"smoke_{uuid.uuid4().hex[:8]}",
        "TEMPLATE_SVC_ADDR": f"127.0.0.1:{grpc_port}",
    }
    plan = (
        ("template-svc", template_probe, {"GRPC_PORT": str(grpc_port), "PROBE_PORT": str(template_probe)}),
        ("campaign-api", api_port, {"HTTP_PORT": str(api_port), "DATABASE_URL": database_url, "AMQP_URL": amqp_url}),
        (
            "dispatch-worker",
            worker_probe,
            {"PROBE_PORT": str(worker_probe), "DATABASE_URL": database_url, "AMQP_URL": amqp_url},
        ),
        (
            "scheduler",
            scheduler_probe,
            {"PROBE_PORT": str(scheduler_probe), "CAMPAIGN_API_URL": f"http://127.0.0.1:{api_port}"},
        ),
    )
    started: list[Running] = []
    try:
        for service, port, env in plan:
            running = images[service].start(["/app/entrypoint"], {**common, **env})
            started.append(running)
            assert wait_for_health(running, port) == 200, service
    finally:
        for running in reversed(started):
            stop(running)
