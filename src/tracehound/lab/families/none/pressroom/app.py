"""Newsroom article renderer (Flask on gunicorn's sync workers): each page is assembled from the
article, its related stories and a Markdown pass; a worker renders one page at a time."""

from __future__ import annotations

import hashlib
import html
import logging
import os
import time

from flask import Flask, abort, jsonify

logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                    format="%(asctime)s [%(process)d] %(levelname)s %(message)s")
log = logging.getLogger("pressroom")
RENDER_MS = float(os.environ.get("RENDER_MS", "35"))

app = Flask(__name__)
SECTIONS = ("politics", "business", "science", "culture", "sport")


def related(slug: str) -> list[str]:
    digest = hashlib.sha1(slug.encode()).hexdigest()
    return [f"{SECTIONS[int(c, 16) % 5]}-{digest[i:i + 6]}" for i, c in enumerate(digest[:4])]


def render(section: str, slug: str) -> str:
    started = time.perf_counter()
    paragraphs = [f"<p>{html.escape(slug)} paragraph {i}: " + "lorem ipsum " * 20 + "</p>" for i in range(12)]
    time.sleep(RENDER_MS / 1000)
    body = "<article><h1>" + html.escape(slug.replace("-", " ").title()) + "</h1>" + "".join(paragraphs)
    body += "<aside>" + "".join(f'<a href="/{r}">{r}</a>' for r in related(slug)) + "</aside></article>"
    took = (time.perf_counter() - started) * 1000
    if took > 3 * RENDER_MS:
        log.warning("slow render %s/%s: %.0f ms", section, slug, took)
    return body


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/<section>/<slug>")
def article(section: str, slug: str):
    if section not in SECTIONS:
        abort(404)
    page = render(section, slug)
    return jsonify(section=section, slug=slug, html=page, bytes=len(page))
