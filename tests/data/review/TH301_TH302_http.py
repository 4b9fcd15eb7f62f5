"""TH301 (no timeout) and TH302 (a read timeout of a second or less)."""

import http.client
import urllib.request

import aiohttp
import httpx
import requests

PAYMENTS_TIMEOUT = httpx.Timeout(1.0)  # expect: TH302
session = requests.Session()


def fetch_rates():
    return requests.get("https://rates.example.com").json()  # expect: TH301


def fetch_with_session():
    return session.post("https://rates.example.com", json={})  # expect: TH301


def fetch_urllib():
    return urllib.request.urlopen("https://rates.example.com").read()  # expect: TH301


def connect():
    return http.client.HTTPConnection("internal", 8080)  # expect: TH301


def unbounded():
    return httpx.Client(timeout=None)  # expect: TH301


async def aio():
    async with aiohttp.ClientSession() as s:  # expect: TH301
        return await s.get("https://example.com")


def tight():
    requests.get("https://example.com", timeout=0.5)  # expect: TH302
    requests.get("https://example.com", timeout=(3, 1))  # expect: TH302
    return httpx.AsyncClient(timeout=PAYMENTS_TIMEOUT)


# -- negatives ----------------------------------------------------------------------------------

FINE_TIMEOUT = httpx.Timeout(5.0, connect=1.0, pool=2.0)


def fine():
    requests.get("https://example.com", timeout=(1, 5))
    session.get("https://example.com", timeout=5)
    urllib.request.urlopen("https://example.com", timeout=5)
    http.client.HTTPConnection("internal", 8080, timeout=5)
    httpx.get("https://example.com")
    return httpx.AsyncClient(timeout=FINE_TIMEOUT)


async def aio_fine():
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s:
        return await s.get("https://example.com")
