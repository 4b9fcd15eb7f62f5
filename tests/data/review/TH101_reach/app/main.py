"""TH101 across modules: the app mounts the routers (their prefix is part of every finding's route)."""

from fastapi import FastAPI

from app.api import orders, users

app = FastAPI()
app.include_router(orders.router, prefix="/api")
app.include_router(users.router, prefix="/api")
