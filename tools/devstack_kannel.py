"""`make up SENDER=kannel`: a real Kannel beside the platform — bearerbox with a fake SMSC link, smsbox with a
sendsms user, and Kannel's SMSC simulator (fakesmsc) taking every message — and the demo account's Kannel sender.

bearerbox's fake SMSC answers each message with delivery reports, which smsbox hands to the sender's dlr-url on
campaign-api (the worker gives Kannel that URL with each message), so `delivered` counts come from real receipts.
Debian's `kannel` package provides bearerbox and smsbox, `kannel-extras` fakesmsc; nothing starts by itself.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from test_kit import kannel_config
from test_kit.kannel_config import KannelPorts

SEARCH_PATH = "/usr/sbin:/usr/bin:/usr/lib/kannel/test"
INSTALL = "apt-get install -y kannel kannel-extras"
PORTS = KannelPorts()
ADMIN_PORT, BOX_PORT, SMSC_PORT, SENDSMS_PORT = PORTS.admin, PORTS.box, PORTS.smsc, PORTS.sendsms
USERNAME = "dispatch"
# a sendsms user on loopback only, for the local platform; not a credential of anything outside this machine
PASSWORD = "make-up-kannel"  # noqa: S105
ADMIN_PASSWORD = "make-up-admin"  # noqa: S105 - bearerbox's admin port, on loopback
SENDER_NAME = "Kannel (make up)"
SENDER_ADDRESS = "CAMPAIGN"
DLR_MASK = str(kannel_config.DLR_MASK)


@dataclass
class RunningKannel:
    directory: Path
    worker_env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def stop(self) -> None:
        """SIGTERM in reverse start order, SIGKILL what does not exit in 5 s."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def binaries() -> tuple[str, str, str]:
    """bearerbox, smsbox and fakesmsc, or exit naming the packages to install."""
    found = [shutil.which(name, path=SEARCH_PATH) for name in ("bearerbox", "smsbox", "fakesmsc")]
    if None in found:
        raise SystemExit(f"SENDER=kannel needs Kannel and its SMSC simulator: run `{INSTALL}`, then `make up` again")
    return found[0] or "", found[1] or "", found[2] or ""


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# the environment variable the seeded sender's credentials_ref names
CREDENTIALS_VAR = "KANNEL_CREDENTIALS"


def seed_sender(env: dict[str, str], account: str) -> dict[str, str]:
    """The account's default SMS sender through Kannel (created once); its callback URLs."""
    argv = (
        "campaign-api", "senders", "ensure", account, "--name", SENDER_NAME, "--provider", "kannel",
        "--channel", "sms", "--address", SENDER_ADDRESS, "--default", "--credentials-ref", CREDENTIALS_VAR,
    )  # fmt: skip
    done = subprocess.run(argv, env=env, check=True, capture_output=True, text=True)  # noqa: S603 - fixed argv
    urls: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])["callback_urls"]
    return urls


def config(directory: Path, inbound_url: str) -> Path:
    """bearerbox's core and a fake SMSC link; smsbox with the sendsms user and a get-url for inbound messages."""
    path = directory / "kannel.conf"
    gateway = kannel_config.gateway(PORTS, admin_password=ADMIN_PASSWORD, log_dir=directory)
    user = kannel_config.sendsms_user(USERNAME, PASSWORD)
    path.write_text(f"{gateway}\n{user}\n{kannel_config.inbound_service(inbound_url)}")
    return path


def start(env: dict[str, str], account: str) -> RunningKannel:
    """Seed the sender, start the three boxes, wait until sendsms answers; the worker's environment to use it."""
    bearerbox, smsbox, fakesmsc = binaries()
    for port in (ADMIN_PORT, BOX_PORT, SMSC_PORT, SENDSMS_PORT):
        if port_open(port):
            raise SystemExit(f"SENDER=kannel: port {port} is taken (another Kannel running?); stop it first")
    urls = seed_sender(env, account)
    directory = Path(tempfile.mkdtemp(prefix="campaign-dispatch-kannel-"))
    conf = config(directory, urls["inbound"])
    running = RunningKannel(
        directory,
        {
            "SENDER": "kannel",
            "KANNEL_URL": f"http://127.0.0.1:{SENDSMS_PORT}/cgi-bin/sendsms",
            "KANNEL_USERNAME": USERNAME,
            "KANNEL_PASSWORD": PASSWORD,
            "KANNEL_FROM": SENDER_ADDRESS,
            "KANNEL_DLR_MASK": DLR_MASK,
            "KANNEL_DLR_URL": urls["delivery_receipts"],
            # the sender row names this variable: the worker reads the sendsms user from it (never from the row)
            CREDENTIALS_VAR: f"{USERNAME}:{PASSWORD}",
            # the worker builds the sender's dlr-url from campaign-api's address
            "CALLBACK_BASE_URL": urls["delivery_receipts"].split("/providers/")[0],
        },
    )

    def launch(argv: list[str], log: str) -> None:
        with (directory / log).open("ab") as out:
            running.processes.append(subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=directory))  # noqa: S603

    launch([bearerbox, str(conf)], "bearerbox.out")
    wait(running, lambda: port_open(BOX_PORT) and port_open(SMSC_PORT), "bearerbox")
    launch([smsbox, str(conf)], "smsbox.out")
    launch([fakesmsc, "-H", "127.0.0.1", "-r", str(SMSC_PORT), *kannel_config.FAKESMSC_ARGS], "fakesmsc.log")
    wait(running, lambda: port_open(SENDSMS_PORT), "smsbox")
    return running


def wait(running: RunningKannel, ready: object, what: str, timeout_s: float = 15.0) -> None:
    """Poll until `ready()`; exit with the log directory when a box dies or never gets there."""
    assert callable(ready)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in running.processes):
            running.stop()
            raise SystemExit(f"Kannel's {what} exited; its logs are in {running.directory}")
        if ready():
            return
        time.sleep(0.1)
    running.stop()
    raise SystemExit(f"Kannel's {what} did not start in {timeout_s:.0f} s; its logs are in {running.directory}")
