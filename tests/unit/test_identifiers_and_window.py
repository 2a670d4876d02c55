"""Org slugs that reach SQL identifiers, and the billing day derived from a data interval."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from cloudcost.billing_window import NoDataInterval, billing_days, day_interval
from cloudcost.identifiers import InvalidIdentifier, parse_org_slug, qualified


@pytest.mark.parametrize("slug", ["demo", "acme_corp", "a1"])
def test_valid_slugs(slug: str) -> None:
    assert parse_org_slug(slug) == slug


@pytest.mark.parametrize("slug", ["", "a", "Demo", "1acme", 'x"; drop table y; --', "acme-corp", "a" * 41, None, 7])
def test_invalid_slugs_are_rejected(slug: object) -> None:
    with pytest.raises(InvalidIdentifier, match="invalid org slug"):
        parse_org_slug(slug)


def test_qualified_quotes_and_refuses_injection() -> None:
    assert qualified("demo_prod", "t") == '"demo_prod"."t"'
    with pytest.raises(InvalidIdentifier):
        qualified('demo"prod', "t")


def test_one_day_interval_gives_its_day() -> None:
    start, end = day_interval(date(2026, 11, 1))
    assert billing_days(start, end) == [date(2026, 11, 1)]


def test_multi_day_interval_gives_each_day() -> None:
    start = datetime(2026, 10, 30, tzinfo=UTC)
    assert billing_days(start, start + timedelta(days=3)) == [date(2026, 10, 30), date(2026, 10, 31), date(2026, 11, 1)]


def test_interval_in_other_zone_is_converted_to_utc() -> None:
    cet = timezone(timedelta(hours=1))
    assert billing_days(datetime(2026, 11, 2, 1, tzinfo=cet), datetime(2026, 11, 3, 1, tzinfo=cet)) == [
        date(2026, 11, 2)
    ]


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        (None, None, "no data interval"),
        (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC), "empty data interval"),
        (datetime(2026, 11, 1, 6, tzinfo=UTC), datetime(2026, 11, 2, 6, tzinfo=UTC), "not aligned"),
        (datetime(2026, 11, 1), datetime(2026, 11, 2), "no time zone"),
    ],
)
def test_unusable_intervals_fail_loudly(start, end, words: str) -> None:
    with pytest.raises(NoDataInterval, match=words):
        billing_days(start, end)
