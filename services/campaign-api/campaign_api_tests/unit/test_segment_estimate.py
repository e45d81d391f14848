"""The send answer's expected segments, from the sampled messages' counts."""

from __future__ import annotations

from campaign_api.domain import SegmentEstimate


def test_every_message_sampled_gives_the_exact_total() -> None:
    assert SegmentEstimate.of([1, 2, 3], 3) == SegmentEstimate(per_message=3, total=6, sampled=3)


def test_a_sample_is_scaled_to_the_whole_send_rounding_up() -> None:
    assert SegmentEstimate.of([1, 2], 1_000_001) == SegmentEstimate(per_message=2, total=1_500_002, sampled=2)


def test_nothing_rendered_leaves_the_figures_unknown() -> None:
    assert SegmentEstimate.of([], 10) == SegmentEstimate(per_message=None, total=None, sampled=0)
