"""Throughput (130429, any one-second window) and pair rate (131056) are enforced as Meta does, and
the sandbox keeps hundreds of requests in flight at its latency."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from tests.sandbox.harness import SECOND_PHONE_NUMBER_ID
from tests.sandbox.payloads import assert_meta_error, order_shipped


def send_to(sandbox, number: str, phone_number_id: str = "100000000000001"):
    return sandbox.send(order_shipped(number), phone_number_id=phone_number_id)


def numbers(start: int, count: int) -> list[str]:
    return [f"+5696100{n:04d}" for n in range(start, start + count)]


def test_more_than_the_rate_in_one_second_gets_130429(sandbox):
    sandbox.configure(rate=5)
    answers = [send_to(sandbox, number) for number in numbers(0, 8)]
    assert [a.status_code for a in answers] == [200] * 5 + [400] * 3
    error = assert_meta_error(answers[-1], 130429)
    assert error["error_subcode"] == 2494055
    assert error["error_data"]["details"] == "Cloud API message throughput has been reached."
    stats = sandbox.stats()
    assert (stats["accepted"], stats["rate_limited"]) == (5, 3)
    assert stats["busiest_window"]["100000000000001"]["requests"] == 8


def test_the_rate_window_slides_instead_of_resetting_each_second(sandbox):
    sandbox.configure(rate=5)
    assert all(send_to(sandbox, n).ok for n in numbers(0, 3))
    time.sleep(0.6)
    assert all(send_to(sandbox, n).ok for n in numbers(3, 2))
    # Five in the last second, wherever the calendar second turned: the sixth is refused...
    assert_meta_error(send_to(sandbox, numbers(5, 1)[0]), 130429)
    time.sleep(0.5)
    # ...and once the first three are more than a second old, exactly three more fit.
    answers = [send_to(sandbox, n) for n in numbers(6, 4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 400]


def test_the_rate_is_counted_per_phone_number(sandbox):
    sandbox.configure(rate=3)
    first = [send_to(sandbox, n) for n in numbers(0, 3)]
    second = [send_to(sandbox, n, SECOND_PHONE_NUMBER_ID) for n in numbers(3, 3)]
    assert all(a.ok for a in first + second)
    assert sandbox.stats()["accepted_by_phone_number_id"] == {"100000000000001": 3, SECOND_PHONE_NUMBER_ID: 3}


def test_same_recipient_again_within_the_pair_interval_gets_131056(sandbox):
    sandbox.configure(pair_interval=0.5)
    assert send_to(sandbox, "+56961230001").ok
    error = assert_meta_error(send_to(sandbox, "+56961230001"), 131056)
    assert "too many messages" in error["error_data"]["details"]
    assert send_to(sandbox, "+56961230002").ok  # other recipients go on
    time.sleep(0.55)
    assert send_to(sandbox, "+56961230001").ok
    stats = sandbox.stats()
    assert (stats["accepted"], stats["pair_limited"]) == (3, 1)


def test_pair_limit_is_measured_from_the_last_accepted_message(sandbox):
    sandbox.configure(pair_interval=1.0)
    assert send_to(sandbox, "+56961230001").ok
    time.sleep(0.5)
    assert_meta_error(send_to(sandbox, "+56961230001"), 131056)  # refused: does not restart the interval
    time.sleep(0.6)
    assert send_to(sandbox, "+56961230001").ok


def test_hundreds_of_requests_are_in_flight_at_once_at_realistic_latency(sandbox):
    sandbox.configure(latency_ms=1000, jitter_ms=0, rate=10_000)
    client = sandbox.client()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=128) as pool:
        results = list(pool.map(
            lambda n: client.send_template("100000000000001", n, "order_shipped", "en_US",
                                           {"body": ["Camila", "#1", "Friday"]}), numbers(0, 256)))
    elapsed = time.monotonic() - started
    assert len({r.wamid for r in results}) == 256
    assert sandbox.stats()["max_in_flight"] >= 100
    # Two rounds of 128 answers, a second each; one at a time this would take over four minutes.
    assert elapsed < 10
