"""A real Kannel for the tests: bearerbox with a fake SMSC link, smsbox with a sendsms user, and fakesmsc on it.

Everything runs from a temporary directory on free loopback ports and is stopped when the fixture ends. Debian's
`kannel` package provides bearerbox and smsbox, `kannel-extras` the fakesmsc simulator; nothing starts by itself.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pytest
from test_kit import kannel_config
from test_kit.kannel_config import KannelPorts

INSTALL_HINT: Final = "Kannel is not installed: run `apt-get install -y kannel kannel-extras`, then rerun"
SEARCH_PATH: Final = "/usr/sbin:/usr/bin:/usr/lib/kannel/test"
USERNAME: Final = "dispatch"
PASSWORD: Final = "kannel-test-pass"  # noqa: S105 - a throwaway sendsms user on loopback
BLOCKED_PREFIX: Final = "+1999"  # the sendsms user's black-list: Kannel refuses these numbers
START_TIMEOUT_S: Final = 15.0


@dataclass
class KannelGateway:
    """A running Kannel: where sendsms answers, and what the simulated SMSC has received."""

    sendsms_url: str
    admin_url: str
    admin_password: str
    directory: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def smsc_log(self) -> Path:
        """fakesmsc's output: one "Got message N: <from to type text>" line per message it received."""
        return self.directory / "fakesmsc.log"

    def received(self) -> list[str]:
        """The "<from> <to> <type> <text>" of every message the SMSC received so far."""
        lines = self.smsc_log.read_text(errors="replace").splitlines() if self.smsc_log.exists() else []
        return [line.split(": <", 1)[1].rstrip(">") for line in lines if "Got message" in line and ": <" in line]

    def wait_received(self, count: int, timeout_s: float = 5.0) -> list[str]:
        """Wait until the SMSC has received `count` messages; return them."""
        deadline = time.monotonic() + timeout_s
        while True:
            got = self.received()
            if len(got) >= count or time.monotonic() >= deadline:
                return got
            time.sleep(0.05)

    def logs(self) -> str:
        """The tail of every box's log, for a failure message."""
        parts = []
        for name in ("bearerbox.log", "smsbox.log", "fakesmsc.log"):
            path = self.directory / name
            if path.exists():
                parts.append(f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-15:]))
        return "\n".join(parts)


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_binary(name: str) -> str:
    """The path of a Kannel binary, or fail naming the apt command."""
    found = shutil.which(name, path=SEARCH_PATH)
    if found is None:
        pytest.fail(f"{name} not found. {INSTALL_HINT}")
    return found


def write_config(directory: Path, ports: KannelPorts, admin_password: str) -> Path:
    """bearerbox's core and a fake SMSC link, smsbox with the sendsms user, in one kannel.conf (the shared one)."""
    config = directory / "kannel.conf"
    text = kannel_config.gateway(ports, admin_password=admin_password, log_dir=directory)
    user = kannel_config.sendsms_user(USERNAME, PASSWORD, black_list_regex=f"^\\{BLOCKED_PREFIX}")
    config.write_text(f"{text}\n{user}")
    return config


def wait_until(check: Callable[[], bool], what: str, gateway: KannelGateway) -> None:
    """Poll `check()` until it is true, or fail with the boxes' logs."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        for process in gateway.processes:
            if process.poll() is not None:
                pytest.fail(f"{process.args!r} exited with {process.returncode} while {what}\n{gateway.logs()}")
        with contextlib.suppress(OSError):
            if check():
                return
        time.sleep(0.1)
    pytest.fail(f"Kannel did not get ready in {START_TIMEOUT_S} s ({what})\n{gateway.logs()}")


def smsc_online(gateway: KannelGateway) -> bool:
    """bearerbox's status page lists the FAKE link as online."""
    url = f"{gateway.admin_url}/status.txt?password={gateway.admin_password}"
    with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback http
        status = response.read().decode(errors="replace")
    return any("FAKE" in line and "online" in line for line in status.splitlines())


def port_open(port: int) -> bool:
    """Something accepts connections on the loopback port."""
    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True


@contextlib.contextmanager
def run_kannel(directory: Path) -> Iterator[KannelGateway]:
    """Start bearerbox, smsbox and fakesmsc, wait until sendsms answers and the link is online; stop them after."""
    bearerbox, smsbox, fakesmsc = find_binary("bearerbox"), find_binary("smsbox"), find_binary("fakesmsc")
    ports = KannelPorts(*(free_port() for _ in range(4)))
    admin_password = "admin-" + directory.name
    config = write_config(directory, ports, admin_password)
    gateway = KannelGateway(
        sendsms_url=f"http://127.0.0.1:{ports.sendsms}/cgi-bin/sendsms",
        admin_url=f"http://127.0.0.1:{ports.admin}",
        admin_password=admin_password,
        directory=directory,
    )

    def start(args: list[str], output: str) -> None:
        with (directory / output).open("ab") as out:
            gateway.processes.append(subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=directory))  # noqa: S603

    try:
        start([bearerbox, str(config)], "bearerbox.out")
        wait_until(lambda: port_open(ports.box) and port_open(ports.smsc), "bearerbox starts listening", gateway)
        start([smsbox, str(config)], "smsbox.out")
        start([fakesmsc, "-H", "127.0.0.1", "-r", str(ports.smsc), *kannel_config.FAKESMSC_ARGS], "fakesmsc.log")
        wait_until(lambda: port_open(ports.sendsms), "smsbox opens sendsms", gateway)
        wait_until(lambda: smsc_online(gateway), "fakesmsc connects", gateway)
        yield gateway
    finally:
        stop(gateway.processes)


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM in reverse start order (the SMSC, smsbox, then bearerbox), SIGKILL what does not exit in 5 s."""
    for process in reversed(processes):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
