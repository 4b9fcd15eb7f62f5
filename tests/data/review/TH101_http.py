"""TH101: synchronous HTTP clients inside async def (flake8-async ASYNC210-212), and what is fine."""

import urllib.request
from urllib.request import urlopen

import httpx
import requests
import urllib3
from fastapi import FastAPI

app = FastAPI()
http = urllib3.PoolManager(timeout=3.0)
shared = httpx.Client(base_url="https://rates.example.com", timeout=2)
async_client = httpx.AsyncClient(timeout=2)


class Gateway:
    """A wrapper some code bases keep around a sync session."""

    def __init__(self) -> None:
        self.session = requests.Session()


@app.get("/rates/{currency}")
async def rates(currency: str):
    quote = requests.get(f"https://rates.example.com/{currency}", timeout=2)  # expect: TH101
    requests.request("POST", "https://audit.example.com", json={}, timeout=2)  # expect: TH101
    httpx.post("https://audit.example.com", json={"c": currency})  # expect: TH101
    urlopen("https://status.example.com", timeout=2)  # expect: TH101
    urllib.request.urlopen("https://status.example.com", timeout=2)  # expect: TH101
    urllib3.request("GET", "https://status.example.com")  # expect: TH101
    return quote.json()


@app.get("/pool/{path}")
async def pool(path: str, method: str = "GET"):
    http.request("GET", f"https://upstream.example.com/{path}")  # expect: TH101
    http.request(method, f"https://upstream.example.com/{path}")  # expect: TH101
    http.urlopen("HEAD", f"https://upstream.example.com/{path}")  # expect: TH101
    with urllib3.PoolManager() as other:  # expect: TH202
        other.request("get", "https://upstream.example.com/")  # expect: TH101


async def by_annotation(conn: urllib3.HTTPSConnectionPool, client: httpx.Client | None, sess: requests.Session):
    conn.request("GET", "/health")  # expect: TH101
    client.send(client.build_request("GET", "/"))  # expect: TH101
    sess.get("https://example.com", timeout=5)  # expect: TH101
    client.close()  # expect: TH101


@app.get("/shared")
async def use_shared(gw: Gateway):
    shared.get("/eur")  # expect: TH101
    gw.session.post("https://example.com", timeout=5)  # expect: TH101
    return {"ok": True}


@app.get("/fine")
async def fine(currency: str):
    r = await async_client.get(f"https://rates.example.com/{currency}")
    shared.build_request("GET", "/")
    settings = {"timeout": 2}
    settings.get("timeout")
    await some_async_http().request("GET", "/")
    return r.json()


def some_async_http() -> httpx.AsyncClient:
    return async_client


@app.get("/sync")
def sync_endpoint():
    return requests.get("https://example.com", timeout=2).json()
