"""One kannel.conf for every Kannel this repository runs: the tests and the benchmark (free loopback ports),
`make up SENDER=kannel` (fixed loopback ports), and docker compose and the Helm chart, whose kannel.conf
(charts/campaign-dispatch/files/kannel/kannel.conf) is `deployed()`'s output, checked by tests/deploy.

bearerbox (the core, with a fake SMSC link), smsbox (the sendsms HTTP interface) and Kannel's SMSC simulator,
fakesmsc, always share one network namespace (one machine, one compose network namespace, one pod), so the boxes
and the SMSC link listen on loopback only and just sendsms faces the platform. The sendsms user and the inbound
`sms-service` (whose get-url holds a sender's callback token) are credentials: they are separate groups, written
into the same file locally and into an included file from a Secret when deployed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

# every report Kannel has: 1 delivered, 2 undelivered, 4 queued on the SMSC, 8 accepted by it, 16 rejected by it
DLR_MASK: Final = 31
# the file a deployed kannel.conf includes, from a Secret: the sendsms user and, optionally, the inbound sms-service.
# A file, not its directory: a Secret volume's directory also holds Kubernetes' hidden ..data entries
PRIVATE_FILE: Final = "/etc/kannel/private/private.conf"
# bearerbox's admin interface listens on loopback only, inside the pod or the compose service's namespace: nothing
# outside reaches it, so the deployed file may name its password
DEPLOYED_ADMIN_PASSWORD: Final = "loopback-only"  # noqa: S105
# fakesmsc's arguments after the SMSC port: -m 0 generates no mobile-originated messages, it only receives (the
# message argument is required anyway)
FAKESMSC_ARGS: Final = ("-m", "0", "100 200 text nop")


@dataclass(frozen=True, slots=True)
class KannelPorts:
    """bearerbox's admin and box ports, the fake SMSC link's port, and smsbox's sendsms port."""

    admin: int = 13000
    box: int = 13001
    smsc: int = 13010
    sendsms: int = 13013


def gateway(
    ports: KannelPorts,
    *,
    admin_password: str,
    sendsms_interface: str = "127.0.0.1",
    log_dir: Path | None = None,
    include: str | None = None,
) -> str:
    """The core, the fake SMSC link and smsbox; log files in `log_dir` (else the console), then `include`."""

    def log_file(box: str) -> str:
        return "" if log_dir is None else f'log-file = "{log_dir}/{box}.log"\n'

    text = f"""group = core
admin-port = {ports.admin}
admin-interface = 127.0.0.1
admin-password = {admin_password}
admin-allow-ip = 127.0.0.1
smsbox-port = {ports.box}
box-allow-ip = 127.0.0.1
dlr-storage = internal
{log_file("bearerbox")}log-level = 1

group = smsc
smsc = fake
smsc-id = FAKE
host = 127.0.0.1
port = {ports.smsc}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = {ports.sendsms}
sendsms-interface = {sendsms_interface}
{log_file("smsbox")}log-level = 1
"""
    if include is not None:
        text += f'\ninclude = "{include}"\n'
    return text


def sendsms_user(username: str, password: str, *, black_list_regex: str | None = None) -> str:
    """The sendsms user the worker sends as (`username:password` is what the sender's credentials_ref holds)."""
    text = f"""group = sendsms-user
username = {username}
password = {password}
max-messages = 10
concatenation = true
"""
    if black_list_regex is not None:
        text += f'black-list-regex = "{black_list_regex}"\n'
    return text


def inbound_service(get_url: str) -> str:
    """Every inbound message to campaign-api's Kannel inbound URL (the sender's `callback_urls.inbound`); the empty
    answer sends no reply SMS."""
    return f"""group = sms-service
keyword = default
catch-all = true
get-url = "{get_url}"
omit-empty = true
max-messages = 0
"""


def deployed() -> str:
    """compose's and the chart's kannel.conf: fixed ports, sendsms on every interface, logs on the console, the
    sendsms user (and the inbound service, when given) from the private file."""
    return gateway(
        KannelPorts(),
        admin_password=DEPLOYED_ADMIN_PASSWORD,
        sendsms_interface="0.0.0.0",  # noqa: S104 - the one port the platform reaches
        include=PRIVATE_FILE,
    )
