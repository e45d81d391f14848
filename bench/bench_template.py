"""template-svc: renders per second in-process (with SMS facts), and through RenderBatch over gRPC on localhost to
template-svc running as its own process, as deployed."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable

from grpc import aio
from template.v1 import template_pb2, template_pb2_grpc
from template_svc.domain.message_facts import Channel, measure
from template_svc.domain.template_language import CustomerFields, compile_template

from bench.bench_dispatch import end, free_port, start_template_svc

# a typical campaign text: 60 characters once rendered for a typical customer
TEMPLATE = "Hi {first_name|there}, your favourite {preferred_product} is 20% off in {location} today!"
CUSTOMERS = 1_000
TARGET_IN_PROCESS = 100_000
TARGET_RENDER_BATCH = 30_000
FIRST_NAMES = ("Ann", "José", "Zoë", "Li", "Maria", "Tom", None, "")
PRODUCTS = ("Espresso", "Green tea", "Mocha", "Chai latte")
LOCATIONS = ("Lisbon", "Porto", "Faro", None)


def make_customers(count: int) -> list[dict[str, str | None]]:
    """Deterministic customers with a realistic share of missing fields and non-GSM names."""
    rng = random.Random(42)
    return [
        {
            "first_name": rng.choice(FIRST_NAMES),
            "last_name": "Silva",
            "phone": f"+3519{i:08d}",
            "location": rng.choice(LOCATIONS),
            "preferred_product": rng.choice(PRODUCTS),
        }
        for i in range(count)
    ]


def median_rate(run: Callable[[], int], seconds: float = 2.0) -> float:
    """Repeat `run` (which returns how many renders it did) for about `seconds`; the median round's renders/s."""
    rates: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        done = run()
        rates.append(done / (time.perf_counter() - started))
    return statistics.median(rates)


def bench_in_process(customers: list[CustomerFields]) -> float:
    """Render and measure every customer's SMS, the template compiled once."""
    template = compile_template(TEMPLATE)

    def run() -> int:
        for fields in customers:
            measure(template.render(fields), Channel.SMS)
        return len(customers)

    return median_rate(run)


def customer_proto(customer_id: int, fields: dict[str, str | None]) -> template_pb2.Customer:
    """The customer as RenderBatch carries it; a missing field stays unset."""
    proto = template_pb2.Customer(id=customer_id)
    for name, value in fields.items():
        if value is not None:
            setattr(proto, name, value)
    return proto


async def bench_render_batch(addr: str, customers: list[dict[str, str | None]], batch_size: int) -> float:
    """RenderBatch calls of `batch_size` customers each, one after another, over one channel."""
    protos = [customer_proto(i, fields) for i, fields in enumerate(customers)]
    requests = [
        template_pb2.RenderBatchRequest(
            template=TEMPLATE, customers=protos[start : start + batch_size], channel=template_pb2.CHANNEL_SMS
        )
        for start in range(0, len(protos), batch_size)
    ]
    async with aio.insecure_channel(addr) as channel:
        stub = template_pb2_grpc.TemplateServiceStub(channel)
        await stub.RenderBatch(requests[0], timeout=10)  # warm up the connection
        rates: list[float] = []
        deadline = time.perf_counter() + 3.0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            done = 0
            for request in requests:
                reply = await stub.RenderBatch(request, timeout=10)
                done += len(reply.results)
            rates.append(done / (time.perf_counter() - started))
    return statistics.median(rates)


def report(label: str, rate: float, target: int) -> None:
    """Print one figure against its target."""
    verdict = "meets" if rate >= target else "BELOW"
    print(f"{label:<48} {rate:>12,.0f} renders/s   target >= {target:,}  {verdict}", flush=True)


def main() -> None:
    """Print in-process and RenderBatch render rates for 1,000 customers and a typical 60-character template."""
    customers = make_customers(CUSTOMERS)
    sample = compile_template(TEMPLATE).render(
        {"first_name": "Maria", "preferred_product": "Espresso", "location": "Lisbon"}
    )
    print(f"template: {TEMPLATE!r}\ntypical rendering ({len(sample)} chars): {sample!r}", flush=True)
    report("in-process render + SMS facts, 1,000 customers", bench_in_process(list(customers)), TARGET_IN_PROCESS)
    grpc_port = free_port()
    server = start_template_svc(grpc_port)
    try:
        for batch_size in (100, 1_000):
            rate = asyncio.run(bench_render_batch(f"127.0.0.1:{grpc_port}", customers, batch_size))
            report(f"RenderBatch over gRPC, batches of {batch_size:,}", rate, TARGET_RENDER_BATCH)
    finally:
        end(server)
