"""Peak memory of every service: the whole platform as processes, driven through the REST API.

Own database (20,000 customers) and own queue prefix, both removed at the end. template-svc, campaign-api (with its
relay), dispatch-worker and scheduler run as their own processes; one campaign is created and sent to every customer
through `POST /campaigns/{id}/send`, and when it is `sent` each process's peak resident set size (VmHWM) is printed.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from typing import Any

import aio_pika
import httpx
from dispatch.topology import Topology, delete_topology

from bench.bench_dispatch import (
    AMQP_URL,
    MESSAGES,
    TEMPLATE,
    create_database,
    drop_database,
    end,
    free_port,
    peak_rss_mb,
    spawn,
    wait_ready,
)
from bench.scale import account_key

TARGET_WORKER_RSS_MB = 150.0
RETRY_DELAYS = "[1.0,2.0,4.0]"


def call(client: httpx.Client, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """One JSON request to the API; the answer's JSON (an error answer fails the benchmark)."""
    answer = client.request(method, path, json=body)
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    return result


def main() -> None:
    """Run the platform, send one 20,000-message campaign through the API, print every service's peak RSS."""
    url = create_database()
    prefix = f"bench_fp_{uuid.uuid4().hex[:8]}"
    ports = {name: free_port() for name in ("grpc", "template-svc", "campaign-api", "dispatch-worker", "scheduler")}
    common = {
        **os.environ,
        "DATABASE_URL": url,
        "AMQP_URL": AMQP_URL,
        "TEMPLATE_SVC_ADDR": f"127.0.0.1:{ports['grpc']}",
        "CAMPAIGN_API_URL": f"http://127.0.0.1:{ports['campaign-api']}",
        "QUEUE_PREFIX": prefix,
        "RETRY_DELAYS_S": RETRY_DELAYS,
        "MOCK_SUCCESS_PROBABILITY": "1.0",
        "MOCK_LATENCY": "fixed",
        "MOCK_LATENCY_MEAN_MS": "0",
        "LOG_LEVEL": "WARNING",
    }
    processes = {}
    try:
        processes["template-svc"] = spawn(
            "template_svc.main", {**common, "GRPC_PORT": str(ports["grpc"]), "PROBE_PORT": str(ports["template-svc"])}
        )
        wait_ready(ports["template-svc"], processes["template-svc"])
        processes["campaign-api"] = spawn("campaign_api.main", {**common, "HTTP_PORT": str(ports["campaign-api"])})
        processes["dispatch-worker"] = spawn(
            "dispatch_worker.main", {**common, "PROBE_PORT": str(ports["dispatch-worker"])}
        )
        processes["scheduler"] = spawn("scheduler.main", {**common, "PROBE_PORT": str(ports["scheduler"])})
        for name in ("campaign-api", "dispatch-worker", "scheduler"):
            wait_ready(ports[name], processes[name])

        headers = {"Authorization": f"Bearer {account_key(url, 'tests')}"}  # the customers' account
        base = f"http://127.0.0.1:{ports['campaign-api']}"
        with httpx.Client(base_url=base, timeout=60, headers=headers) as api:
            body = {"name": "footprint", "channel": "sms", "base_template": TEMPLATE}
            campaign = call(api, "POST", "/campaigns", body)
            started = time.perf_counter()
            ids = {"customer_ids": list(range(1, MESSAGES + 1))}
            accepted = call(api, "POST", f"/campaigns/{campaign['id']}/send", ids)
            while call(api, "GET", f"/campaigns/{campaign['id']}")["status"] == "sending":
                time.sleep(0.1)
            elapsed = time.perf_counter() - started
        rate = accepted["messages_queued"] / elapsed
        print(f"{accepted['messages_queued']:,} messages via REST to `sent` in {elapsed:.1f} s: {rate:.0f} msg/s")
        for name, process in processes.items():
            rss = peak_rss_mb(process.pid)
            target = f"  (target <= {TARGET_WORKER_RSS_MB:.0f} MB)" if name == "dispatch-worker" else ""
            print(f"peak RSS {name:16} {rss:6.1f} MB{target}")
    finally:
        for process in reversed(list(processes.values())):
            end(process)
        drop_database(url)

        async def remove_queues() -> None:
            connection = await aio_pika.connect(AMQP_URL)
            async with connection:
                topology = Topology(prefix=prefix, retry_delays_s=tuple(json.loads(RETRY_DELAYS)))
                await delete_topology(await connection.channel(), topology)

        asyncio.run(remove_queues())


if __name__ == "__main__":
    main()
