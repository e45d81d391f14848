"""The transactional outbox relay: unpublished outbound_messages rows become confirmed RabbitMQ jobs."""

from campaign_api.outbox.lifecycle import relay_running
from campaign_api.outbox.metrics import RelayMetrics
from campaign_api.outbox.relay import OutboxRelay, RelaySettings

__all__ = ["OutboxRelay", "RelayMetrics", "RelaySettings", "relay_running"]
