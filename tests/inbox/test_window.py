"""The 24-hour customer-service window, at its edges."""
from datetime import timedelta

from tests.webhooks.scenarios import T0
from webapp.inbox import window


def test_the_window_is_open_at_23_59_after_the_customers_last_message():
    assert window.is_open(T0, T0 + timedelta(hours=23, minutes=59))
    assert window.describe_remaining(window.remaining(T0, T0 + timedelta(hours=23, minutes=59))) == "1 min left"


def test_the_window_is_closed_at_24_01_after_the_customers_last_message():
    assert not window.is_open(T0, T0 + timedelta(hours=24, minutes=1))
    assert window.remaining(T0, T0 + timedelta(hours=24, minutes=1)) == timedelta(0)


def test_a_customer_who_never_wrote_has_no_window():
    assert not window.is_open(None, T0)
