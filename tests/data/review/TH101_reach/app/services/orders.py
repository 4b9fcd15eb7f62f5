import requests

from app.clients import UpstreamClient


class OrderService:
    def __init__(self) -> None:
        self.client = UpstreamClient("https://erp.example.com")

    async def get(self, order_id: int) -> dict:
        return {"id": order_id}

    def export(self, order_id: int) -> None:
        payload = self._payload(order_id)
        requests.post("https://erp.example.com/export", json=payload, timeout=5)

    def refresh(self, order_id: int) -> dict:
        return self.client.fetch(f"/orders/{order_id}")

    def _payload(self, order_id: int) -> dict:
        return {"id": order_id}
