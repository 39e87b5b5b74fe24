"""HTTP-dates shared by Last-Modified, If-Range, conditional requests and cookies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from baize._validators import format_http_date, parse_http_date


def test_format_http_date_is_an_imf_fixdate() -> None:
    assert format_http_date(784887151) == "Tue, 15 Nov 1994 08:12:31 GMT"


def test_format_http_date_drops_fractions_of_a_second() -> None:
    assert format_http_date(784887151.999) == "Tue, 15 Nov 1994 08:12:31 GMT"


@pytest.mark.parametrize("timestamp", [0, 784887151, 1_700_000_000, 4_102_444_800])
def test_format_then_parse_round_trips(timestamp: int) -> None:
    assert parse_http_date(format_http_date(timestamp)) == timestamp


def test_formatted_date_matches_datetime() -> None:
    moment = datetime(2024, 2, 29, 23, 59, 58, tzinfo=UTC)
    assert format_http_date(moment.timestamp()) == "Thu, 29 Feb 2024 23:59:58 GMT"
