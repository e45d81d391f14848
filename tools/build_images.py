"""Build the four service images from the one Dockerfile and save them as archives `kind load image-archive` takes.

    python tools/build_images.py                    # every service, tag dev, archives in dist/images/
    python tools/build_images.py --engine buildah scheduler
    python tools/build_images.py kannel             # the opt-in Kannel gateway (the Dockerfile's kannel stage)

With a Docker engine that answers (`docker info`), this is `docker build` and `docker save`. Without one it uses
buildah (Debian's `buildah` package: chroot isolation, vfs storage, no daemon, no registry). The two base images the
Dockerfile starts from are then made here, because no image registry may be reachable:

- the Python base: a Debian bookworm root filesystem assembled by `debootstrap --variant=minbase` from Debian's
  packages with python3.11 and ca-certificates (what python:3.11-slim-bookworm holds), tarred once;
- the uv image: the uv binary of the pinned version, taken from its PyPI wheel.

Everything reusable stays in .cache/images/ (git-ignored): that tarball, the uv wheel, buildah's storage (so the
intermediate layers of one service serve the next) and the uv download cache of the RUN --mount=type=cache steps.

Exits non-zero with a message naming what to install when neither engine is usable.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("campaign-api", "template-svc", "dispatch-worker", "scheduler")
# images built only when named: each is a stage of the one Dockerfile, not a workspace service
TARGETS = {"kannel": "kannel"}
CACHE = Path(os.environ.get("IMAGES_CACHE_DIR", REPO_ROOT / ".cache" / "images"))
ARCHIVES = REPO_ROOT / "dist" / "images"
# the image names the dev values of the chart run (pullPolicy Never): a local prefix that never resolves to a registry
IMAGE_PREFIX = "localhost/campaign-dispatch"
# overlay (the kernel's, as root) commits a layer in milliseconds; vfs copies the whole tree per layer but works
# anywhere (IMAGES_STORAGE_DRIVER=vfs, e.g. inside a container without overlay support)
STORAGE_DRIVER = os.environ.get("IMAGES_STORAGE_DRIVER", "overlay")
DEBIAN_SUITE = "bookworm"
# debootstrap's own default mirror unless DEBIAN_MIRROR names another
DEBIAN_MIRROR = os.environ.get("DEBIAN_MIRROR", "")
BASE_PACKAGES = ("python3.11", "ca-certificates", "tzdata")
PYTHON_BASE = f"{IMAGE_PREFIX}-base/python:3.11-{DEBIAN_SUITE}"
UV_VERSION = "0.13.9"
FIND_UV = "import uv; print(uv.find_uv_bin())"
UV_BASE = f"{IMAGE_PREFIX}-base/uv:{UV_VERSION}"
DEBIAN_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
INSTALL_HINT = "install Docker, or buildah and debootstrap (apt-get install -y buildah debootstrap), then rerun"
# what the minbase root filesystem does not need at run time
PRUNED = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info")


def log(message: str) -> None:
    """Progress on stderr, so stdout stays for the archive list."""
    print(f"[images] {message}", file=sys.stderr, flush=True)


def run(argv: Sequence[str], *, stream: bool = False, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command, failing with its output when it fails; stream=True shows a long step's output as it goes."""
    if stream:
        streamed = subprocess.run(list(argv), text=True, stdout=sys.stderr, check=False, **kwargs)  # noqa: S603
        if streamed.returncode != 0:
            sys.exit(f"`{' '.join(argv)}` failed (exit {streamed.returncode}): see its output above")
        return streamed
    result = subprocess.run(list(argv), text=True, capture_output=True, check=False, **kwargs)  # noqa: S603
    if result.returncode != 0:
        output = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        sys.exit(f"`{' '.join(argv)}` failed (exit {result.returncode}):\n{output}")
    return result


def docker_answers() -> bool:
    """True when a docker CLI is present and its engine answers."""
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        probe = subprocess.run([docker, "info"], capture_output=True, text=True, check=False, timeout=20)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


@dataclass(frozen=True, slots=True)
class Buildah:
    """buildah with its storage, run root and temporary folder under the cache, so nothing leaks to the host."""

    binary: str
    cache: Path

    @property
    def storage(self) -> Path:
        """buildah's image storage: one folder per driver, since their layouts differ."""
        return self.cache / f"storage-{STORAGE_DRIVER}"

    def argv(self, *args: str) -> list[str]:
        """The global options every buildah call takes."""
        return [
            self.binary,
            "--root",
            str(self.storage),
            "--runroot",
            str(self.cache / f"runroot-{STORAGE_DRIVER}"),
            "--storage-driver",
            STORAGE_DRIVER,
            *args,
        ]

    def env(self) -> dict[str, str]:
        """The environment: buildah keeps RUN --mount=type=cache folders under TMPDIR, so that goes in the cache."""
        tmp = self.cache / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        return {**os.environ, "TMPDIR": str(tmp), "BUILDAH_ISOLATION": "chroot"}

    def call(self, *args: str, stream: bool = False) -> subprocess.CompletedProcess[str]:
        """Run buildah, failing with its output when it fails."""
        return run(self.argv(*args), stream=stream, env=self.env(), cwd=REPO_ROOT)

    def has_image(self, name: str) -> bool:
        """True when the image is in the local storage."""
        probe = subprocess.run(  # noqa: S603
            self.argv("inspect", "--type", "image", name), capture_output=True, text=True, check=False, env=self.env()
        )
        return probe.returncode == 0


def debootstrap_rootfs(target: Path) -> None:
    """A tarball of a minimal bookworm root filesystem with Python 3.11, made once with debootstrap."""
    debootstrap = shutil.which("debootstrap") or (
        "/usr/sbin/debootstrap" if Path("/usr/sbin/debootstrap").exists() else None
    )
    if debootstrap is None:
        sys.exit(f"debootstrap is missing to assemble the Python base image: {INSTALL_HINT}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=target.parent) as scratch:
        root = Path(scratch) / "root"
        log(f"debootstrap {DEBIAN_SUITE} with {', '.join(BASE_PACKAGES)} (once; cached in {target.parent.name}/)")
        run(
            [
                debootstrap,
                "--variant=minbase",
                f"--include={','.join(BASE_PACKAGES)}",
                DEBIAN_SUITE,
                str(root),
                *([DEBIAN_MIRROR] if DEBIAN_MIRROR else []),
            ]
        )
        for relative in PRUNED:
            shutil.rmtree(root / relative, ignore_errors=True)
            (root / relative).mkdir(parents=True, exist_ok=True)
        # the paths of the official python image, which the Dockerfile names (UV_PYTHON)
        local_bin = root / "usr" / "local" / "bin"
        for name in ("python3.11", "python3", "python"):
            (local_bin / name).unlink(missing_ok=True)
            (local_bin / name).symlink_to("/usr/bin/python3.11")
        partial = target.with_suffix(".partial")
        with tarfile.open(partial, "w") as archive:
            archive.add(root, arcname=".")
        partial.replace(target)


def uv_binary(target: Path) -> None:
    """The uv binary of the pinned version, from PyPI's `uv` package (through uv itself, or pip; cached)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    log(f"fetching uv {UV_VERSION} from PyPI (once)")
    partial = target.with_suffix(".partial")
    uv = shutil.which("uv")
    if uv is not None:
        # the `uv` package's module knows where its wheel put the binary
        found = run([uv, "run", "--no-project", "--quiet", "--with", f"uv=={UV_VERSION}", "python", "-c", FIND_UV])
        shutil.copyfile(found.stdout.strip(), partial)
    else:
        with tempfile.TemporaryDirectory(prefix="uv-", dir=target.parent) as scratch:
            run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--only-binary=:all:",
                    "--platform",
                    "manylinux_2_17_x86_64",
                    "--dest",
                    scratch,
                    f"uv=={UV_VERSION}",
                ]
            )
            (wheel,) = Path(scratch).glob("uv-*.whl")
            with zipfile.ZipFile(wheel) as archive:
                partial.write_bytes(archive.read(f"uv-{UV_VERSION}.data/scripts/uv"))
    partial.chmod(0o755)
    partial.replace(target)


def ensure_bases(buildah: Buildah) -> None:
    """The two images the Dockerfile starts from, in buildah's storage."""
    if not buildah.has_image(PYTHON_BASE):
        rootfs = CACHE / "base" / f"rootfs-{DEBIAN_SUITE}-python3.11.tar"
        if not rootfs.is_file():
            debootstrap_rootfs(rootfs)
        log(f"importing {rootfs.name} as {PYTHON_BASE}")
        container = buildah.call("from", "--pull=never", "scratch").stdout.strip()
        buildah.call("add", container, str(rootfs), "/")
        buildah.call(
            "config",
            "--env",
            "PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--env",
            "LANG=C.UTF-8",
            "--cmd",
            "python3",
            container,
        )
        buildah.call("commit", "--rm", container, PYTHON_BASE)
    if not buildah.has_image(UV_BASE):
        binary = CACHE / "uv" / f"uv-{UV_VERSION}"
        if not binary.is_file():
            uv_binary(binary)
        container = buildah.call("from", "--pull=never", "scratch").stdout.strip()
        buildah.call("copy", container, str(binary), "/uv")
        buildah.call("commit", "--rm", container, UV_BASE)


def ca_bundle() -> Path | None:
    """The CA bundle this machine trusts, handed to the build's downloads (a TLS-inspecting proxy needs it)."""
    for candidate in (
        os.environ.get("SSL_CERT_FILE"),
        os.environ.get("REQUESTS_CA_BUNDLE"),
        "/etc/ssl/certs/ca-certificates.crt",
    ):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def secret_args() -> list[str]:
    """`--secret id=ca,src=...` when this machine has a CA bundle."""
    bundle = ca_bundle()
    return ["--secret", f"id=ca,src={bundle}"] if bundle else []


def target_args(image: str) -> list[str]:
    """A service's build argument, or the Dockerfile stage of an image that is no service."""
    target = TARGETS.get(image)
    return ["--target", target] if target else ["--build-arg", f"SERVICE={image}"]


def image_name(service: str, tag: str) -> str:
    """The local name of one service's image."""
    return f"{IMAGE_PREFIX}/{service}:{tag}"


def build_with_buildah(services: Sequence[str], tag: str, out: Path) -> list[Path]:
    """Build every service with buildah and save each as a docker-archive."""
    binary = shutil.which("buildah")
    if binary is None:
        sys.exit(f"no Docker engine answers and buildah is missing: {INSTALL_HINT}")
    buildah = Buildah(binary, CACHE)
    ensure_bases(buildah)
    archives = []
    for service in services:
        started = time.monotonic()
        name = image_name(service, tag)
        log(f"buildah build {name}")
        buildah.call(
            "build",
            "--isolation",
            "chroot",
            "--layers",
            "--pull=never",
            "--network",
            "host",
            "--file",
            "Dockerfile",
            *target_args(service),
            "--build-arg",
            f"PYTHON_IMAGE={PYTHON_BASE}",
            "--build-arg",
            f"UV_IMAGE={UV_BASE}",
            *secret_args(),
            "--tag",
            name,
            ".",
            stream=True,
        )
        archive = out / f"{service}.tar"
        archive.unlink(missing_ok=True)
        buildah.call("push", "--quiet", name, f"docker-archive:{archive}:{name}")
        shown = archive.relative_to(REPO_ROOT) if archive.is_relative_to(REPO_ROOT) else archive
        log(f"{name} -> {shown} in {time.monotonic() - started:.0f}s")
        archives.append(archive)
    return archives


def build_with_docker(services: Sequence[str], tag: str, out: Path) -> list[Path]:
    """Build every service with docker build and save each with docker save."""
    docker = shutil.which("docker") or "docker"
    archives = []
    for service in services:
        name = image_name(service, tag)
        log(f"docker build {name}")
        run(
            [
                docker,
                "build",
                "--file",
                "Dockerfile",
                *target_args(service),
                *secret_args(),
                "--tag",
                name,
                ".",
            ],
            cwd=REPO_ROOT,
            stream=True,
        )
        archive = out / f"{service}.tar"
        run([docker, "save", "--output", str(archive), name])
        archives.append(archive)
    return archives


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the arguments, pick the engine, build, print the archive paths."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    known = (*SERVICES, *TARGETS)
    parser.add_argument(
        "services", nargs="*", metavar="IMAGE", help=f"any of {', '.join(known)} (default: the four services)"
    )
    parser.add_argument("--engine", choices=("auto", "docker", "buildah"), default="auto")
    parser.add_argument("--tag", default="dev")
    parser.add_argument("--out", type=Path, default=ARCHIVES)
    args = parser.parse_args(argv)
    services = args.services or list(SERVICES)
    unknown = sorted(set(services) - set(known))
    if unknown:
        parser.error(f"unknown image(s) {', '.join(unknown)}: pick from {', '.join(known)}")
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    engine = args.engine
    if engine == "auto":
        engine = "docker" if docker_answers() else "buildah"
    started = time.monotonic()
    build = build_with_docker if engine == "docker" else build_with_buildah
    for archive in build(services, args.tag, out):
        print(archive)
    log(f"{len(services)} image(s) with {engine} in {time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    main()
