"""One campaign send through the four real services, watched the way an operator watches it.

The services run as processes (their console scripts) against a throwaway database and queues of their own, and
export spans over OTLP to a receiver inside this test. After one `POST /campaigns/{id}/send` the tests prove: one
trace runs from the API through the relay, the queue, the worker, template-svc and the sender to the final database
write; every service's /metrics carries the catalogue with the right numbers; a real Prometheus scraping the
services evaluates every dashboard query and alert rule; probes answer; logs are JSON with trace ids and no phones.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from grpc import aio
from grpc_health.v1 import health_pb2
from otlp_receiver import ReceivedSpan, RunningReceiver
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from promql_live_check import LiveReport, QueryOutcome, live_check
from stack import Stack

SEND_ROUTE: Final = "/campaigns/{campaign_id}/send"
CUSTOMERS: Final = 6
# phones as a user types them (local Kenyan spelling) and as the API stores them (E.164)
TYPED_PHONES: Final = [f"0712 34{i:01d} 9{i:02d}" for i in range(CUSTOMERS)]
E164_PHONES: Final = [f"+25471234{i:01d}9{i:02d}" for i in range(CUSTOMERS)]
SERVICES_IN_TRACE: Final = {"campaign-api", "dispatch-worker", "template-svc"}
# metrics that only get samples when something goes wrong (or a scheduled campaign falls due): on a healthy send
# their prometheus-client families have no labelled child yet, so a query over them alone is an empty vector
FAILURE_ONLY_METRICS: Final = (
    "dispatch_messages_failed_total",
    "dispatch_messages_retried_total",
    "dispatch_messages_dead_lettered_total",
    "scheduler_dispatch_lag_seconds",
    "scheduler_errors_total",
)
LOG_KEYS: Final = {"timestamp", "level", "service", "trace_id", "span_id"}
TIMEOUT_S: Final = 20.0


@dataclass(frozen=True, slots=True)
class SentCampaign:
    campaign_id: int
    customer_ids: list[int]
    accepted: dict[str, Any]


async def poll(client: httpx.AsyncClient, url: str, done: Any, timeout_s: float = TIMEOUT_S) -> httpx.Response:
    """GET `url` every 100 ms until `done(response)` holds; fail with the last answer after `timeout_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        response = await client.get(url)
        if done(response):
            return response
        if loop.time() > deadline:
            raise AssertionError(f"GET {url} never satisfied the condition; last answer {response.text}")
        await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
async def sent(stack: Stack) -> AsyncIterator[SentCampaign]:
    """Customers and an SMS campaign created through the API, sent once, and delivered to every customer."""
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=10, headers=stack.api_headers) as client:
        customer_ids = []
        for i, phone in enumerate(TYPED_PHONES):
            body = {"phone": phone, "first_name": f"E2e{i}", "location": "Nairobi", "preferred_product": "tea"}
            created = await client.post("/customers", json=body)
            assert created.status_code == 201, created.text
            assert created.json()["phone"] == E164_PHONES[i]
            customer_ids.append(created.json()["id"])
        campaign = await client.post(
            "/campaigns",
            json={"name": "e2e", "channel": "sms", "base_template": "Hi {first_name|there}, {preferred_product}!"},
        )
        assert campaign.status_code == 201, campaign.text
        campaign_id = campaign.json()["id"]
        accepted = await client.post(f"/campaigns/{campaign_id}/send", json={"customer_ids": customer_ids})
        assert accepted.status_code == 202, accepted.text
        await poll(client, f"/campaigns/{campaign_id}", lambda r: r.json()["status"] == "sent")
        yield SentCampaign(campaign_id, customer_ids, accepted.json())


# --- tracing -----------------------------------------------------------------------------------------------------


def send_server_span(spans: Sequence[ReceivedSpan]) -> ReceivedSpan | None:
    """campaign-api's server span of POST /campaigns/{campaign_id}/send (the test sends once)."""
    found = [
        s
        for s in spans
        if s.service == "campaign-api" and s.kind == "SERVER" and s.attributes.get("http.route") == SEND_ROUTE
    ]
    return found[0] if found else None


def ancestors(span: ReceivedSpan, by_id: dict[str, ReceivedSpan]) -> list[ReceivedSpan]:
    """The span's parent, grandparent, ... as far as the trace holds them."""
    chain = []
    while span.parent_span_id is not None and span.parent_span_id in by_id:
        span = by_id[span.parent_span_id]
        chain.append(span)
    return chain


def is_outcome_update(span: ReceivedSpan) -> bool:
    """The worker's statement that records the sends: UPDATE outbound_messages ... status = 'sent'."""
    statement = str(span.attributes.get("db.statement") or span.attributes.get("db.query.text") or "")
    return span.service == "dispatch-worker" and "UPDATE outbound_messages" in statement and "'sent'" in statement


@dataclass(frozen=True, slots=True)
class SendTrace:
    """The spans of the send's trace, by the role each plays."""

    trace_id: str
    spans: list[ReceivedSpan]
    server: ReceivedSpan
    publishes: list[ReceivedSpan]
    consumes: list[ReceivedSpan]
    batches: list[ReceivedSpan]
    render_clients: list[ReceivedSpan]
    estimate_clients: list[ReceivedSpan]
    render_servers: list[ReceivedSpan]
    sends: list[ReceivedSpan]
    updates: list[ReceivedSpan]

    @classmethod
    def of(cls, spans: Sequence[ReceivedSpan]) -> SendTrace | None:
        """The send's trace as received so far; None until the server span arrived."""
        server = send_server_span(spans)
        if server is None:
            return None
        trace = [s for s in spans if s.trace_id == server.trace_id]

        def where(service: str, kind: str | None = None, name: str | None = None) -> list[ReceivedSpan]:
            return [
                s
                for s in trace
                if s.service == service
                and (kind is None or s.kind == kind)
                and (name is None or s.name == name or s.name.endswith(name))
            ]

        return cls(
            trace_id=server.trace_id,
            spans=trace,
            server=server,
            publishes=where("campaign-api", kind="PRODUCER"),
            consumes=where("dispatch-worker", kind="CONSUMER"),
            batches=where("dispatch-worker", name="dispatch.batch"),
            render_clients=where("dispatch-worker", kind="CLIENT", name="/RenderBatch"),
            # the send's answer estimates the segments from its first messages, rendered by template-svc
            estimate_clients=where("campaign-api", kind="CLIENT", name="/RenderBatch"),
            render_servers=where("template-svc", kind="SERVER", name="/RenderBatch"),
            sends=where("dispatch-worker", name="dispatch.send"),
            updates=[s for s in trace if is_outcome_update(s)],
        )

    def is_complete(self) -> bool:
        """Every role is present for every message and every span's parent has arrived."""
        ids = {s.span_id for s in self.spans}
        return (
            bool(self.publishes)  # one publish per job: the relay packs up to RELAY_JOB_SIZE messages into one
            and len(self.sends) == CUSTOMERS
            and all((self.consumes, self.batches, self.render_clients, self.updates))
            # template-svc's span of every RenderBatch, the estimate's and the worker's, has arrived
            and len(self.render_servers) >= len(self.render_clients) + len(self.estimate_clients)
            and all(s.parent_span_id in ids for s in self.spans if s is not self.server)
        )


@pytest.fixture(scope="module")
async def send_trace(otlp: RunningReceiver, sent: SentCampaign) -> SendTrace:
    """The send's trace, once every span of it has been exported."""

    def complete(spans: Sequence[ReceivedSpan]) -> bool:
        trace = SendTrace.of(spans)
        return trace is not None and trace.is_complete()

    try:
        spans = await otlp.store.wait_for(complete, timeout_s=TIMEOUT_S)
    except TimeoutError:
        trace = SendTrace.of(otlp.store.spans)
        listing = "\n".join(s.describe() for s in (trace.spans if trace else otlp.store.spans))
        raise AssertionError(f"the send's trace is incomplete after {TIMEOUT_S}s:\n{listing}") from None
    trace = SendTrace.of(spans)
    assert trace is not None
    return trace


def test_no_span_carries_an_api_key(stack: Stack, otlp: RunningReceiver, send_trace: SendTrace) -> None:
    # the scheduler's calls and the test's own are all traced by now: neither key is in any attribute
    leaked = [
        span.describe()
        for span in otlp.store.spans
        if any(key in str(value) for value in span.attributes.values() for key in (stack.api_key, stack.system_key))
    ]
    assert not leaked, "spans carrying an API key:\n" + "\n".join(leaked)


def test_one_trace_runs_from_post_send_to_the_final_database_update(send_trace: SendTrace) -> None:
    by_id = {s.span_id: s for s in send_trace.spans}
    server = send_trace.server
    assert server.name == f"POST {SEND_ROUTE}"
    assert server.parent_span_id is None, "the API's server span is the root of the send's trace"
    # every span of the trace hangs off the request: nothing is orphaned between the services
    orphans = [s.describe() for s in send_trace.spans if s is not server and server not in ancestors(s, by_id)]
    assert not orphans, "spans not descending from POST /send:\n" + "\n".join(orphans)
    assert {s.service for s in send_trace.spans} == SERVICES_IN_TRACE

    publish_ids = {s.span_id for s in send_trace.publishes}
    # the relay publishes each job from the row's stored traceparent: the request's server span
    assert all(s.parent_span_id == server.span_id for s in send_trace.publishes)
    # the worker reads the trace context from the AMQP headers the publish span wrote
    assert all(s.parent_span_id in publish_ids for s in send_trace.consumes)
    assert all(s.parent_span_id in publish_ids for s in send_trace.sends)
    assert all(s.parent_span_id in publish_ids for s in send_trace.batches)
    # a batch links every job it worked, so jobs from other requests stay reachable from the batch span
    for batch in send_trace.batches:
        assert batch.links, batch.describe()
        assert {span_id for _, span_id in batch.links} <= publish_ids, batch.links
    batch_ids = {s.span_id for s in send_trace.batches}
    for client in send_trace.render_clients:
        assert batch_ids & {a.span_id for a in ancestors(client, by_id)}, client.describe()
    # the send's segment estimate: one RenderBatch inside the request, before the answer
    (estimate,) = send_trace.estimate_clients
    assert server in ancestors(estimate, by_id), estimate.describe()
    client_ids = {s.span_id for s in send_trace.render_clients}
    worker_renders = [s for s in send_trace.render_servers if s.parent_span_id != estimate.span_id]
    assert len(worker_renders) == len(send_trace.render_servers) - 1, "template-svc served the estimate once"
    assert worker_renders and all(s.parent_span_id in client_ids for s in worker_renders)
    for update in send_trace.updates:
        assert batch_ids & {a.span_id for a in ancestors(update, by_id)}, update.describe()
    sent_to = {s.attributes.get("dispatch.outbound_message_id") for s in send_trace.sends}
    assert len(sent_to) == CUSTOMERS


# --- metrics -----------------------------------------------------------------------------------------------------


async def scrape(url: str) -> list[Sample]:
    """Every sample of a /metrics page."""
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{url}/metrics")
    assert response.status_code == 200, response.text
    return [sample for family in text_string_to_metric_families(response.text) for sample in family.samples]


def value(samples: Sequence[Sample], name: str, **labels: str) -> float | None:
    """The value of the one sample named `name` whose labels include `labels`; None when there is none."""
    found = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    assert len(found) <= 1, f"{name}{labels} matches {len(found)} samples"
    return found[0] if found else None


async def eventually(url: str, name: str, expected: float, **labels: str) -> list[Sample]:
    """Scrape until a gauge refreshed on a timer reaches `expected`; return that scrape."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        samples = await scrape(url)
        if value(samples, name, **labels) == expected or loop.time() > deadline:
            assert value(samples, name, **labels) == expected, f"{name}{labels}"
            return samples
        await asyncio.sleep(0.2)


async def test_each_service_exposes_the_catalogue_with_the_sends_numbers(stack: Stack, sent: SentCampaign) -> None:
    api = await eventually(stack.url("campaign-api"), "outbox_backlog_messages", 0)
    assert value(api, "dispatch_messages_published_total") == CUSTOMERS
    assert value(api, "campaigns_created_total", channel="sms") == 1
    assert value(api, "campaigns_dispatched_total", channel="sms") == 1
    send_count = value(
        api, "http_server_request_duration_seconds_count", route=SEND_ROUTE, method="POST", status_code="202"
    )
    assert send_count == 1
    assert value(api, "http_server_request_duration_seconds_count", route="/customers", method="POST") == CUSTOMERS

    worker = await eventually(
        stack.url("dispatch-worker"), "dispatch_queue_depth_messages", 0, queue=stack.queue_prefix
    )
    assert value(worker, "dispatch_messages_sent_total", channel="sms") == CUSTOMERS
    assert value(worker, "dispatch_send_duration_seconds_count", channel="sms") == CUSTOMERS
    assert value(worker, "dispatch_batch_size_sum") == CUSTOMERS
    assert (value(worker, "dispatch_batch_size_count") or 0) >= 1
    # a healthy send: nothing failed, retried or was dead-lettered (those families have no sample yet)
    for failure in ("dispatch_messages_failed_total", "dispatch_messages_retried_total"):
        assert not value(worker, failure, channel="sms"), failure
    assert not [s for s in worker if s.name == "dispatch_messages_dead_lettered_total"]
    depth_queues = {s.labels["queue"] for s in worker if s.name == "dispatch_queue_depth_messages"}
    tiers = {f"{stack.queue_prefix}.retry.{i}" for i in range(1, len(stack.retry_delays_s) + 1)}
    lanes = {stack.queue_prefix, f"{stack.queue_prefix}.priority"}
    assert depth_queues == {*lanes, f"{stack.queue_prefix}.dlq", *tiers}

    template = await scrape(stack.url("template-svc"))
    render_batch = "/template.v1.TemplateService/RenderBatch"
    assert (value(template, "grpc_server_handled_total", grpc_method=render_batch, grpc_code="OK") or 0) >= 1
    assert (value(template, "grpc_server_handling_seconds_count", grpc_method=render_batch) or 0) >= 1
    # campaign creation validates the template through the same service; the sends rendered one each
    assert (value(template, "template_renders_total", strategy="template", channel="sms") or 0) >= CUSTOMERS

    scheduler = await scrape(stack.url("scheduler"))
    assert (value(scheduler, "scheduler_last_tick_timestamp_seconds") or 0) > 0
    assert value(scheduler, "scheduler_campaigns_dispatched_total") == 0

    for samples in (api, worker, template, scheduler):
        assert (value(samples, "process_cpu_seconds_total") or 0) > 0
        assert (value(samples, "process_resident_memory_bytes") or 0) > 0


BOUNDED_LABELS: Final = {
    "channel": {"sms", "whatsapp"},
    "method": {"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"},
    "strategy": {"template", "ai"},
}
ID_IN_PATH = re.compile(r"/\d+(/|$)")
PHONE_LIKE = re.compile(r"\+?\d[\d ]{8,}")


async def test_no_metric_label_carries_an_id_or_a_phone_number(stack: Stack, sent: SentCampaign) -> None:
    for service in stack.services:
        for sample in await scrape(stack.url(service)):
            for label, text in sample.labels.items():
                where = f"{service}: {sample.name}{{{label}={text!r}}}"
                assert not PHONE_LIKE.search(text), where
                assert text not in TYPED_PHONES + E164_PHONES, where
                if label in BOUNDED_LABELS:
                    assert text in BOUNDED_LABELS[label], where
                if label == "route":
                    assert not ID_IN_PATH.search(text), f"{where}: a route label must be the template"
                if label == "queue":
                    assert text.startswith(stack.queue_prefix), where
                assert label not in {"campaign_id", "customer_id", "outbound_message_id", "phone"}, where


# --- Prometheus over the real services ---------------------------------------------------------------------------


def describe(outcomes: Sequence[QueryOutcome]) -> str:
    return "\n".join(
        f"  {o.query.source}: status={o.status} type={o.result_type} series={o.series} error={o.error}\n"
        f"    {o.query.expr}"
        for o in outcomes
    )


def only_failure_metrics(expr: str) -> bool:
    """True when every metric the query reads is one that only has samples after a failure."""
    names = set(re.findall(r"\b([a-z_]+_(?:total|seconds|messages|bytes|size)(?:_bucket|_sum|_count)?)\b", expr))
    bases = {re.sub(r"_(bucket|sum|count)$", "", n) for n in names}
    return bool(bases) and bases <= set(FAILURE_ONLY_METRICS)


@pytest.fixture(scope="module")
async def live_report(
    stack: Stack, sent: SentCampaign, prometheus_binary: str, repo_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> LiveReport:
    """A real Prometheus scrapes the four services after the send; every panel and alert query runs on that."""
    files = repo_root / "charts" / "campaign-dispatch" / "files"
    return await asyncio.to_thread(
        live_check,
        prometheus_binary,
        stack.scrape_targets(),
        tmp_path_factory.mktemp("prometheus-e2e"),
        dashboard_path=files / "grafana" / "campaign-dispatch.json",
        alerts_path=files / "prometheus" / "alerts.yml",
        scrapes=3,
    )


def test_every_dashboard_query_evaluates_against_the_real_services(live_report: LiveReport) -> None:
    broken = [o for o in live_report.panels + live_report.variables if not o.is_vector]
    assert not broken, "queries Prometheus could not evaluate:\n" + describe(broken)
    # a panel may be empty only when all it reads is a failure-only metric, which a healthy send never creates
    empty = [o for o in live_report.panels if o.series == 0 and not only_failure_metrics(o.query.expr)]
    assert not empty, "panels without data after a real send:\n" + describe(empty)
    assert all(o.series > 0 for o in live_report.variables), describe(live_report.variables)


def test_every_alert_evaluates_and_none_fires_on_a_healthy_send(live_report: LiveReport) -> None:
    broken = [o for o in live_report.alerts + live_report.alert_signals if not o.is_vector]
    assert not broken, "alert expressions Prometheus could not evaluate:\n" + describe(broken)
    silent = [o for o in live_report.alert_signals if o.series == 0 and not only_failure_metrics(o.query.expr)]
    assert not silent, "alert signals selecting no series from the real services:\n" + describe(silent)
    firing = [o for o in live_report.alerts if o.series > 0]
    assert not firing, "alerts that would fire on a healthy platform:\n" + describe(firing)
    unhealthy = [(r["name"], r.get("lastError")) for r in live_report.rules if r.get("health") != "ok"]
    assert not unhealthy
    assert all(r["state"] == "inactive" for r in live_report.rules), [
        (r["name"], r["state"]) for r in live_report.rules
    ]


# --- health ------------------------------------------------------------------------------------------------------

EXPECTED_CHECKS: Final = {
    "campaign-api": {"database", "template-svc"},
    "template-svc": {"grpc"},
    "dispatch-worker": {"database", "broker", "template-svc"},
    "scheduler": {"campaign-api"},
}


async def test_every_service_is_alive_and_reports_each_dependency_ready(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        for service in stack.services:
            health = await client.get(f"{stack.url(service)}/health")
            assert health.status_code == 200, f"{service}: {health.text}"
            ready = await client.get(f"{stack.url(service)}/ready")
            assert ready.status_code == 200, f"{service}: {ready.text}"
            assert ready.headers["content-type"].startswith("application/json")
            body = ready.json()
            assert body["status"] == "ok"
            assert body["checks"] == dict.fromkeys(EXPECTED_CHECKS[service], "ok"), f"{service}: {body}"


async def test_template_svc_answers_grpc_health_serving(stack: Stack) -> None:
    async with aio.insecure_channel(stack.grpc_address) as channel:
        check = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        reply = await check(health_pb2.HealthCheckRequest(service=""), timeout=2)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


# --- scheduled dispatch by the real scheduler process (after the metric checks, before the shutdown) ----------


async def test_the_scheduler_process_sends_a_due_campaign_and_leaves_a_future_one(
    stack: Stack, sent: SentCampaign
) -> None:
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=10, headers=stack.api_headers) as client:
        audience = []
        for i in range(3):
            created = await client.post("/customers", json={"phone": f"+25473300{i:04d}", "first_name": f"Due{i}"})
            assert created.status_code == 201, created.text
            audience.append(created.json()["id"])
        now = datetime.now(UTC)
        due = await client.post(
            "/campaigns",
            json={
                "name": "due in two seconds",
                "channel": "whatsapp",
                "base_template": "Karibu {first_name}!",
                "scheduled_at": (now + timedelta(seconds=2)).isoformat(),
                "audience": {"customer_ids": audience},
            },
        )
        later = await client.post(
            "/campaigns",
            json={
                "name": "due in an hour",
                "channel": "whatsapp",
                "base_template": "Karibu {first_name}!",
                "scheduled_at": (now + timedelta(hours=1)).isoformat(),
                "audience": {"segment": {"all": True}},
            },
        )
        assert due.status_code == later.status_code == 201, (due.text, later.text)
        assert due.json()["status"] == "scheduled"
        finished = await poll(client, f"/campaigns/{due.json()['id']}", lambda r: r.json()["status"] == "sent")
        stats = finished.json()["stats"]
        assert {k: stats[k] for k in ("total", "pending", "sending", "sent", "failed")} == {
            "total": 3,
            "pending": 0,
            "sending": 0,
            "sent": 3,
            "failed": 0,
        }
        untouched = await client.get(f"/campaigns/{later.json()['id']}")
        assert untouched.json()["status"] == "scheduled"
        assert untouched.json()["stats"]["total"] == 0
        scheduler_metrics = (await client.get(f"{stack.url('scheduler')}/metrics")).text
    dispatched = next(
        sample.value
        for family in text_string_to_metric_families(scheduler_metrics)
        for sample in family.samples
        if sample.name == "scheduler_campaigns_dispatched_total"
    )
    assert dispatched == 1


# --- shutdown and logs (these stop the stack: keep them last) ----------------------------------------------------


async def test_every_service_stops_on_sigterm_and_exits_0(stack: Stack, sent: SentCampaign) -> None:
    # off the event loop: the OTLP receiver in this loop must keep taking the spans the services flush at exit
    exit_codes = await asyncio.to_thread(stack.stop)
    assert exit_codes == dict.fromkeys(stack.services, 0), {
        name: (code, stack.services[name].tail(1500)) for name, code in exit_codes.items() if code != 0
    }
    slow = {name: s.stop_seconds for name, s in stack.services.items() if (s.stop_seconds or 0) > 10}
    assert not slow


async def test_every_log_line_is_json_with_trace_ids_and_no_phone_number(
    stack: Stack, sent: SentCampaign, send_trace: SendTrace
) -> None:
    await asyncio.to_thread(stack.stop)  # every line, shutdown included
    carrying_send_trace = []
    for name, service in stack.services.items():
        lines = service.log_lines()
        assert lines, f"{name} printed nothing"
        for line in lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise AssertionError(f"{name} printed a line that is not JSON: {line!r}") from None
            assert isinstance(record, dict), line
            assert record.keys() >= LOG_KEYS, f"{name}: {line}"
            assert record["service"] == name, line
            assert stack.api_key not in line and stack.system_key not in line, f"{name} logged an API key: {line}"
            if record["level"] in {"INFO", "WARNING", "ERROR", "CRITICAL"}:
                leaked = [p for p in TYPED_PHONES + E164_PHONES if p in line or p.replace(" ", "") in line]
                assert not leaked, f"{name} logged a phone number at {record['level']}: {line}"
            if record["trace_id"] == send_trace.trace_id:
                carrying_send_trace.append((name, record))
    # what was logged while the send was handled is found by the send's trace id
    assert any(name == "campaign-api" for name, _ in carrying_send_trace), carrying_send_trace
    assert all(r["span_id"] in {s.span_id for s in send_trace.spans} for _, r in carrying_send_trace)
