"""Coursework archive (Flask): students' submitted scans per course, listed or downloaded as one zip."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import zipfile

from flask import Flask, Response, abort, jsonify

STYLE = os.environ.get("LOG_STYLE", "plain")
if STYLE != "none":
    handler = logging.FileHandler(os.environ["LOG_FILE"]) if os.environ.get("LOG_FILE") else logging.StreamHandler()
    handler.setFormatter(logging.Formatter(
        "%(message)s" if STYLE == "json" else "%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
log = logging.getLogger("coursework")

app = Flask(__name__)

#: course id -> (students, pages per submission); a page scan is about 128 kB.
COURSES = {101: (24, 2), 102: (18, 3), 103: (30, 1), 104: (12, 4),
           210: (int(os.environ.get("BIG_COURSE_STUDENTS", "120")), 6)}
PAGE_BYTES = 128 * 1024


def scan(course: int, student: int, pages: int) -> bytes:
    seed = hashlib.sha256(f"{course}:{student}".encode()).digest()
    return seed * (pages * PAGE_BYTES // len(seed))


def event(message: str, **fields) -> None:
    if STYLE == "json":
        log.info(json.dumps({"event": message, **fields}))
    else:
        log.info("%s %s", message, " ".join(f"{k}={v}" for k, v in fields.items()))


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/courses/<int:course>/submissions")
def listing(course: int):
    if course not in COURSES:
        abort(404)
    students, pages = COURSES[course]
    return jsonify(course=course, submissions=[
        {"student": s, "pages": pages, "file": f"student-{s:03d}.pdf"} for s in range(1, students + 1)])


@app.get("/courses/<int:course>/submissions.zip")
def archive(course: int):
    if course not in COURSES:
        abort(404)
    students, pages = COURSES[course]
    files = [(f"student-{s:03d}.pdf", scan(course, s, pages)) for s in range(1, students + 1)]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in files:
            z.writestr(name, data)
    body = buf.getvalue()
    event("archive built", course=course, files=len(files), bytes=len(body))
    return Response(body, mimetype="application/zip",
                    headers={"Content-Disposition": f"attachment; filename=course-{course}.zip"})
