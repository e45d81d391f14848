"""Make sure `promtool` and `prometheus` are installed, and print where they are.

The observability tests check the alert rules and the Prometheus config with promtool and run a throwaway
Prometheus server. Debian's `prometheus` package provides both binaries. When they are missing this installs the
package with apt-get (refreshing the package lists once if the first attempt fails) and then disables the Debian
service it brings along, so no packaged Prometheus keeps running or starts at boot on :9090: the tests run their
own server on a free port with its own data directory.

    python tools/ensure_prometheus.py      # prints {"promtool": "...", "prometheus": "..."} on stdout

Exits non-zero with a message saying what to install when that is impossible (no root, no package source).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

BINARIES = ("promtool", "prometheus")
PACKAGE = "prometheus"
APT_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}


def locate() -> dict[str, str] | None:
    """The paths of both binaries, or None when either is missing."""
    found = {name: shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/sbin") for name in BINARIES}
    if all(found.values()):
        return {name: path for name, path in found.items() if path}
    return None


def run_apt(*args: str) -> subprocess.CompletedProcess[str]:
    """Run apt-get with the given arguments, capturing its output for the error message."""
    return subprocess.run(  # noqa: S603 - fixed argv, no shell
        ["apt-get", *args],  # noqa: S607 - apt-get is looked up on PATH on purpose
        capture_output=True,
        text=True,
        check=False,
        env=APT_ENV,
        timeout=600,
    )


def install() -> None:
    """Install Debian's prometheus package, refreshing the package lists when the first attempt fails."""
    if shutil.which("apt-get") is None:
        sys.exit(f"promtool/prometheus are missing and apt-get is not available: install the '{PACKAGE}' package")
    if os.geteuid() != 0:
        sys.exit(f"promtool/prometheus are missing: run `sudo apt-get install -y {PACKAGE}` (installing needs root)")
    install_args = ("install", "-y", "--no-install-recommends", PACKAGE)
    result = run_apt(*install_args)
    if result.returncode != 0:
        # a stale package list points at versions the mirror no longer has
        run_apt("update")
        result = run_apt(*install_args)
    if result.returncode != 0:
        sys.exit(
            f"`apt-get install -y {PACKAGE}` failed (exit {result.returncode}); install it by hand.\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    disable_packaged_service()


def disable_packaged_service() -> None:
    """Stop and disable the service the Debian package enables, so nothing we installed holds :9090."""
    if shutil.which("systemctl") is None:
        return
    booted_with_systemd = Path("/run/systemd/system").is_dir()
    argv = ["systemctl", "disable", "--now", PACKAGE] if booted_with_systemd else ["systemctl", "disable", PACKAGE]
    subprocess.run(argv, capture_output=True, check=False, timeout=60)  # noqa: S603


def main() -> None:
    """Install when needed, then print the binaries' paths as JSON."""
    paths = locate()
    if paths is None:
        install()
        paths = locate()
    if paths is None:
        sys.exit(f"installed '{PACKAGE}' but {' / '.join(BINARIES)} are still not on PATH")
    print(json.dumps(paths))


if __name__ == "__main__":
    main()
