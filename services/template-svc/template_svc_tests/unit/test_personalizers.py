"""The personalisation seam: strategy registry, the default template strategy, fallback on failure."""

from __future__ import annotations

import time

import pytest
from template_svc.domain.message_facts import Channel, Encoding
from template_svc.errors import InvalidTemplate, UnknownStrategy
from template_svc.personalizers.fallback import FallbackPersonalizer
from template_svc.personalizers.registry import PersonalizerRegistry
from template_svc.personalizers.template_strategy import TemplatePersonalizer
from template_svc.usecases.render_messages import RenderMessages

from template_svc_tests.fakes import FailingPersonalizer, ShoutingPersonalizer, SlowPersonalizer

CUSTOMERS: list[dict[str, str | None]] = [{"first_name": "Ann"}, {"first_name": None}, {"first_name": "Zoë"}]


@pytest.mark.parametrize("name", ["", "template"])
def test_empty_and_template_names_resolve_to_the_template_strategy(name: str) -> None:
    assert isinstance(PersonalizerRegistry().resolve(name), TemplatePersonalizer)


def test_an_unknown_strategy_is_rejected_naming_the_known_ones() -> None:
    with pytest.raises(UnknownStrategy, match=r"'gpt'.*known strategies: template"):
        PersonalizerRegistry().resolve("gpt")


async def test_render_messages_renders_in_order_with_facts() -> None:
    render = RenderMessages(PersonalizerRegistry())
    batch = await render("Hi {first_name|there}!", CUSTOMERS, Channel.SMS)
    assert [m.text for m in batch.messages] == ["Hi Ann!", "Hi there!", "Hi Zoë!"]
    assert batch.strategy == "template"
    assert [m.facts.encoding for m in batch.messages] == [Encoding.GSM7, Encoding.GSM7, Encoding.UCS2]


async def test_render_messages_rejects_a_bad_template_before_any_strategy_runs() -> None:
    shouting = ShoutingPersonalizer()
    render = RenderMessages(PersonalizerRegistry({"shouting": shouting}))
    with pytest.raises(InvalidTemplate):
        await render("Hi {frist_name}", CUSTOMERS, Channel.SMS, "shouting")
    assert shouting.requests == []


async def test_a_registered_strategy_is_chosen_by_name() -> None:
    render = RenderMessages(PersonalizerRegistry({"shouting": ShoutingPersonalizer()}))
    batch = await render("Hi {first_name}", CUSTOMERS[:1], Channel.WHATSAPP, "shouting")
    assert (batch.messages[0].text, batch.strategy) == ("HI ANN", "shouting")


async def test_a_failing_strategy_falls_back_to_the_template_strategy() -> None:
    strategy = FallbackPersonalizer(FailingPersonalizer(), TemplatePersonalizer(), name="ai")
    render = RenderMessages(PersonalizerRegistry({"ai": strategy}))
    batch = await render("Hi {first_name}", CUSTOMERS[:1], Channel.SMS, "ai")
    assert (batch.messages[0].text, batch.strategy) == ("Hi Ann", "template")


async def test_a_slow_strategy_falls_back_within_the_callers_deadline() -> None:
    strategy = FallbackPersonalizer(SlowPersonalizer(), TemplatePersonalizer(), name="ai", budget_s=5.0)
    render = RenderMessages(PersonalizerRegistry({"ai": strategy}))
    started = time.perf_counter()
    batch = await render("Hi {first_name}", CUSTOMERS[:1], Channel.SMS, "ai", time_budget_s=0.2)
    assert time.perf_counter() - started < 1.0
    assert (batch.messages[0].text, batch.strategy) == ("Hi Ann", "template")


async def test_a_working_strategy_is_used_when_it_answers_in_time() -> None:
    strategy = FallbackPersonalizer(ShoutingPersonalizer(), TemplatePersonalizer(), name="ai")
    batch = await RenderMessages(PersonalizerRegistry({"ai": strategy}))(
        "Hi {first_name}", CUSTOMERS[:1], Channel.SMS, "ai"
    )
    assert batch.strategy == "shouting"
