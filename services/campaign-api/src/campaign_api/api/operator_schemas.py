"""Bodies of the operator controls: dead letters, their replay, a campaign's failures retried, its pace."""

from __future__ import annotations

from typing import Annotated, Final

from dispatch.lifecycle import DeadLetterReason
from pydantic import BaseModel, ConfigDict, Field, Strict

from campaign_api.api.schemas import Id, UtcDatetime
from campaign_api.repositories.dead_letters import DeadLetter
from campaign_api.usecases.replay_dead_letters import Replayed

MAX_REPLAY_IDS: Final = 1000


class DeadLetterBody(BaseModel):
    """A message that failed for good and went to the DLQ."""

    model_config = ConfigDict(from_attributes=True)
    id: int = Field(description="the outbound message's id")
    campaign_id: int
    customer_id: int
    reason: str = Field(description="exhausted | rejected | invalid_template | poison")
    last_error: str | None = Field(description="what the provider or template-svc said last")
    attempts: int = Field(description="send attempts made, the last one included")
    dead_lettered_at: UtcDatetime

    @classmethod
    def of(cls, letter: DeadLetter) -> DeadLetterBody:
        return cls.model_validate(letter)


class DeadLetterListBody(BaseModel):
    data: list[DeadLetterBody]
    next_cursor: int | None = Field(description="pass as before_id for the next page; null on the last page")


class ReplayRequest(BaseModel):
    """Which dead letters to send again; every field given must match, at least one is required."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"campaign_id": 12}, {"message_ids": [501, 502]}, {"reason": "exhausted"}]},
    )
    message_ids: list[Id] | None = Field(default=None, min_length=1, max_length=MAX_REPLAY_IDS)
    campaign_id: Id | None = None
    reason: DeadLetterReason | None = None


class ReplayResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"replayed": 2, "message_ids": [501, 502], "campaign_ids": [12], "removed_from_dlq": 2}]
        }
    )
    replayed: int = Field(description="messages back to pending, retries reset, queued again (each once)")
    message_ids: list[int]
    campaign_ids: list[int]
    removed_from_dlq: int | None = Field(
        description="their jobs taken off RabbitMQ's DLQ; null when the broker did not answer (the next replay does it)"
    )

    @classmethod
    def of(cls, replayed: Replayed) -> ReplayResponse:
        return cls(
            replayed=len(replayed.message_ids),
            message_ids=replayed.message_ids,
            campaign_ids=replayed.campaign_ids,
            removed_from_dlq=replayed.removed_from_dlq,
        )


class PaceBody(BaseModel):
    """A campaign's pace: at most this many of its messages a minute across every worker; null for no cap."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"pace_per_minute": 600}]})
    pace_per_minute: Annotated[int, Strict()] | None = Field(ge=1, le=100_000)
