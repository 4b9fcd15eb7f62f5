"""TH101: blocking calls inside async def (and a sync helper called from one)."""

import asyncio
import hashlib
import subprocess
import time
from pathlib import Path

import bcrypt
import requests
from fastapi import Depends, FastAPI
from passlib.context import CryptContext
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker

app = FastAPI()
engine = create_engine("postgresql+psycopg://db/app", pool_pre_ping=True, pool_timeout=5)
SessionLocal = sessionmaker(engine)
pwd = CryptContext(schemes=["bcrypt"])


def get_db():
    with SessionLocal() as db:
        yield db


def slow_helper() -> None:
    time.sleep(0.5)


@app.post("/login")
async def login(password: str, stored: bytes):
    return bcrypt.checkpw(password.encode(), stored)  # expect: TH101


@app.get("/wait")
async def wait():
    time.sleep(1)  # expect: TH101
    await asyncio.sleep(1)
    slow_helper()  # expect: TH101


@app.get("/users/{user_id}")
async def user(user_id: int, db: Session = Depends(get_db)):
    return db.scalars(select(user_id)).all()  # expect: TH101


@app.get("/misc")
async def misc(password: str):
    requests.get("https://example.com", timeout=2)  # expect: TH101
    hashlib.pbkdf2_hmac("sha256", password.encode(), b"salt", 100_000)  # expect: TH101
    subprocess.run(["true"], check=True)  # expect: TH101
    pwd.verify(password, "$2b$...")  # expect: TH101
    Path("x.txt").read_text()  # expect: TH101


@app.post("/login-fixed")
async def login_fixed(password: str, stored: bytes):
    ok = await asyncio.to_thread(bcrypt.checkpw, password.encode(), stored)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, slow_helper)
    return ok


@app.get("/sync")
def sync_endpoint(db: Session = Depends(get_db)):
    time.sleep(0.1)
    return db.scalars(select(1)).all()
