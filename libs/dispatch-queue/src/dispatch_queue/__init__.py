"""The RabbitMQ contract shared by the outbox relay (campaign-api) and the dispatch worker."""

from dispatch_queue.codec import PoisonJob, decode_job, encode_job
from dispatch_queue.publisher import JobPublisher, OutgoingJob
from dispatch_queue.topology import Topology, declare_topology, delete_topology
from dispatch_queue.trace_headers import extract_trace_context, inject_trace_headers

__all__ = [
    "JobPublisher",
    "OutgoingJob",
    "PoisonJob",
    "Topology",
    "declare_topology",
    "decode_job",
    "delete_topology",
    "encode_job",
    "extract_trace_context",
    "inject_trace_headers",
]
