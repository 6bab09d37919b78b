"""Wrong staff passwords are throttled per client address and overall; the wait grows."""

from __future__ import annotations

from backoffice.staff import (
    FAILURE_WINDOW_SECONDS,
    FIRST_WAIT_SECONDS,
    FREE_FAILURES_OVERALL,
    FREE_FAILURES_PER_CLIENT,
    MAX_WAIT_SECONDS,
    LoginThrottle,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_failures_from_one_address_make_it_wait_and_the_wait_doubles() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(FREE_FAILURES_PER_CLIENT - 1):
        throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 0

    throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == FIRST_WAIT_SECONDS
    assert throttle.retry_after("10.0.0.2") == 0, "another address is not slowed down"
    clock.now += FIRST_WAIT_SECONDS
    assert throttle.retry_after("10.0.0.1") == 0
    throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 2 * FIRST_WAIT_SECONDS
    clock.now += 2 * FIRST_WAIT_SECONDS
    throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 4 * FIRST_WAIT_SECONDS


def test_the_wait_has_a_ceiling_and_old_failures_are_forgotten() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(FREE_FAILURES_PER_CLIENT + 10):
        throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == MAX_WAIT_SECONDS

    clock.now += FAILURE_WINDOW_SECONDS + 1
    assert throttle.retry_after("10.0.0.1") == 0


def test_many_addresses_guessing_together_slow_everyone_down() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for n in range(FREE_FAILURES_OVERALL):
        throttle.failed(f"10.0.1.{n}")  # one failure each: no address alone is slowed
    assert throttle.retry_after("10.0.9.9") == FIRST_WAIT_SECONDS


def test_the_right_password_forgets_that_addresses_failures() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(FREE_FAILURES_PER_CLIENT - 1):
        throttle.failed("10.0.0.1")
    throttle.succeeded("10.0.0.1")
    throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 0
