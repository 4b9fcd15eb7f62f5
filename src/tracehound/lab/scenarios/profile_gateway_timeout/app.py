"""Profile API behind the gateway: everything the profile page shows, in one call."""

from __future__ import annotations

import logging
import os

from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from models import User

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("profiles")

engine = create_engine(
    os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1),
    pool_size=5,
    max_overflow=10,
)
SessionLocal = sessionmaker(engine)

app = FastAPI(title="profiles")


def get_db():
    with SessionLocal() as db:
        yield db


def person(u: User) -> dict:
    return {"id": u.id, "username": u.username, "display_name": u.display_name, "avatar_url": u.avatar_url}


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/api/users/{user_id}/profile")
def get_user_profile(user_id: int, db: Session = Depends(get_db)) -> dict:
    user = db.scalars(
        select(User)
        .where(User.id == user_id)
        .options(
            joinedload(User.posts),
            joinedload(User.followers),
            joinedload(User.following),
        )
    ).unique().one_or_none()
    if user is None:
        raise HTTPException(status_code=404, detail="user not found")
    return {
        "user": {**person(user), "bio": user.bio, "joined": user.created_at.isoformat()},
        "posts": [
            {"id": p.id, "body": p.body, "likes": p.likes, "created_at": p.created_at.isoformat()}
            for p in user.posts
        ],
        "followers": [person(f) for f in user.followers],
        "following": [person(f) for f in user.following],
        "stats": {
            "posts": len(user.posts),
            "followers": len(user.followers),
            "following": len(user.following),
        },
    }
