"""A chain four calls deep before the sleep: handler → retry_forever → attempt → wait → pause."""

import time


def pause(seconds: float) -> None:
    time.sleep(seconds)


def wait(attempt: int) -> None:
    pause(0.1 * 2 ** attempt)


def attempt(order_id: int, n: int) -> bool:
    wait(n)
    return order_id % 2 == 0


def retry_forever(order_id: int) -> None:
    n = 0
    while not attempt(order_id, n):
        n += 1
