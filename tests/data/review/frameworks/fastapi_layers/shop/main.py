from contextlib import asynccontextmanager

from fastapi import FastAPI

from shop.routers import orders


@asynccontextmanager
async def lifespan(app: FastAPI):
    yield


app = FastAPI(lifespan=lifespan)
app.include_router(orders.router, prefix="/api/v1")
