"""The one check interval house tracking and carrier checks share: the carriers' ladder, with
houses stopping at four hours as they always did."""
from datetime import datetime, timedelta

import pytest

from dashboard.services.tracking import HOUSE_SLOWEST, check_interval

AT = datetime(2026, 11, 2, 9, 0)


@pytest.mark.parametrize(("age", "carrier", "house"), [
    (timedelta(0), timedelta(minutes=15), timedelta(minutes=15)),
    (timedelta(hours=23), timedelta(minutes=15), timedelta(minutes=15)),
    (timedelta(days=1), timedelta(hours=1), timedelta(hours=1)),
    (timedelta(days=3), timedelta(hours=4), timedelta(hours=4)),
    (timedelta(days=10), timedelta(hours=12), timedelta(hours=4)),
    (timedelta(days=60), timedelta(hours=12), timedelta(hours=4)),
])
def test_is_a_record_asked_about_less_often_as_it_ages(age, carrier, house):
    assert check_interval(AT - age, AT) == carrier
    assert check_interval(AT - age, AT, slowest=HOUSE_SLOWEST) == house


def test_is_a_fast_house_or_carrier_asked_in_its_own_seconds_on_the_first_day_only():
    assert check_interval(AT, AT, 15.0, slowest=HOUSE_SLOWEST) == timedelta(seconds=15)
    assert check_interval(AT - timedelta(days=2), AT, 15.0) == timedelta(hours=1)


def test_is_a_record_without_a_date_taken_as_new():
    assert check_interval(None, AT) == timedelta(minutes=15)
