import json
from urllib.request import urlopen

from fastapi import Header

from app.services.orders import OrderService

JWKS_URL = "https://auth.example.com/.well-known/jwks.json"


def get_order_service() -> OrderService:
    return OrderService()


def decode_token(token: str) -> dict:
    keys = json.load(urlopen(JWKS_URL, timeout=2))
    return {"sub": token, "keys": len(keys)}


async def current_user(authorization: str = Header()) -> dict:
    return decode_token(authorization)  # expect: TH101


def load_settings() -> dict:
    with open("settings.json") as f:  # a sync dependency: FastAPI runs it in its thread pool
        return json.load(f)
