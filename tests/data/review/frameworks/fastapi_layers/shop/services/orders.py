from shop.repositories.orders import OrderRepository


class OrderService:
    def __init__(self, repo: OrderRepository) -> None:
        self.repo = repo

    async def details(self, order_id: int):
        order = await self.repo.get(order_id)
        await self.repo.audit(order_id)
        self.repo.legacy_lookup(order_id)  # expect: TH101
        return order
