"""Podcast directory (Flask, SQLAlchemy): a show's feed of episodes, with chapters and guests."""

from __future__ import annotations

import json
import logging
import os
import sys

from flask import Flask, abort, jsonify, request
from models import Episode, Show
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, selectinload

engine = create_engine(
    os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1),
    pool_size=2, max_overflow=0, pool_pre_ping=False,
)
app = Flask(__name__)

log = logging.getLogger("feeds")
if os.environ.get("LOG_STYLE", "plain") == "json":
    _h = logging.StreamHandler(sys.stderr)
    _h.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(_h)
    log.setLevel(logging.INFO)
    log.propagate = False
elif os.environ.get("LOG_STYLE", "plain") == "plain":
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(levelname)s in %(module)s: %(message)s")


def _episode(ep) -> dict:
    return {
        "id": ep.id,
        "title": ep.title,
        "published": ep.published.isoformat(),
        "minutes": ep.seconds // 60,
        "chapters": [{"at": c.starts_at, "title": c.title} for c in ep.chapters],
        "guests": [g.name for g in ep.guests],
    }


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/shows/<slug>/feed")
def feed(slug: str):
    with Session(engine) as db:
        show = db.scalars(
            select(Show).where(Show.slug == slug)
            .options(selectinload(Show.episodes).selectinload(Episode.chapters),
                     selectinload(Show.episodes).selectinload(Episode.guests))
        ).one_or_none()
        if show is None:
            abort(404)
        episodes = [_episode(ep) for ep in show.episodes]
    if os.environ.get("LOG_STYLE", "plain") == "json":
        log.info(json.dumps({"event": "feed_served", "show": slug, "episodes": len(episodes),
                             "client": request.headers.get("User-Agent", "-")}))
    else:
        log.info("feed %s: %d episodes", slug, len(episodes))
    return jsonify(show=show.title, episodes=episodes)
