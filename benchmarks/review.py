"""Speed of ``tracehound review`` on a generated 100,000-line FastAPI service, against ``ruff check``.

    python benchmarks/review.py [--lines 100000] [--dir /tmp] [--keep] [--profile]

Generates a service laid out as a package (``svc/``: ``main.py`` mounting a router per domain,
and per domain a model, schema, repository, service and router module importing each other,
plus ``core/`` and ``utils/`` helpers some of which block: ``time.sleep``, ``requests``, file
reads, ``subprocess``, bcrypt), then times ``tracehound review svc/`` and ``ruff check svc/``
as commands (the same Python for ours; ruff's own binary, no cache), best of ``--repeat`` runs.
Prints lines, files, both times (wall, and CPU: a shared machine slows the wall time, not the
CPU time) and the ratio, and the findings by rule. Bar: ours < 10 s wall.
``--profile`` prints the reviewer's 25 most expensive functions (cProfile, in process).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

BAR_SECONDS = 10.0

_CORE = {
    "core/__init__.py": "",
    "core/config.py": '''\
import os

from pydantic import BaseModel


class Settings(BaseModel):
    database_url: str = os.environ.get("DATABASE_URL", "postgresql+asyncpg://app@db/app")
    upstream_url: str = os.environ.get("UPSTREAM_URL", "http://upstream:8080")
    reports_dir: str = "/var/lib/svc/reports"
    pool_size: int = 20


settings = Settings()
''',
    "core/db.py": '''\
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from svc.core.config import settings

engine = create_async_engine(settings.database_url, pool_size=settings.pool_size, pool_timeout=5,
                             pool_pre_ping=True)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


async def get_db():
    async with SessionLocal() as session:
        yield session
''',
    "core/security.py": '''\
import bcrypt
import jwt

from svc.core.config import settings

SECRET = "change-me"


def verify_password(plain: str, hashed: bytes) -> bool:
    return bcrypt.checkpw(plain.encode(), hashed)


def hash_password(plain: str) -> bytes:
    return bcrypt.hashpw(plain.encode(), bcrypt.gensalt())


def make_token(subject: str) -> str:
    return jwt.encode({"sub": subject, "exp": 3600}, SECRET, algorithm="HS256")
''',
    "utils/__init__.py": "",
    "utils/files.py": '''\
import json
import subprocess
import time
from pathlib import Path

from svc.core.config import settings


def load_template(name: str) -> str:
    with open(Path(settings.reports_dir) / name) as f:
        return f.read()


def write_report(name: str, rows: list[dict]) -> None:
    (Path(settings.reports_dir) / name).write_text(json.dumps(rows))


def convert_pdf(name: str) -> bytes:
    return subprocess.check_output(["wkhtmltopdf", name, "-"])


def backoff(attempt: int) -> None:
    time.sleep(0.1 * 2 ** attempt)
''',
    "utils/http.py": '''\
import requests

from svc.core.config import settings


class UpstreamClient:
    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()

    def fetch(self, path: str) -> dict:
        return self.session.get(self.base + path, timeout=5).json()


def notify(event: str) -> None:
    requests.post(settings.upstream_url + "/events", json={"event": event}, timeout=2)


upstream = UpstreamClient(settings.upstream_url)
''',
}


def _model(d: str, n_fields: int) -> str:
    cls = d.capitalize()
    cols = "\n".join(f"    field_{i}: Mapped[str] = mapped_column(String(64), default='')" for i in range(n_fields))
    return f'''\
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class {cls}(Base):
    __tablename__ = "{d}"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
{cols}
    items: Mapped[list["{cls}Item"]] = relationship(back_populates="parent")


class {cls}Item(Base):
    __tablename__ = "{d}_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("{d}.id"))
    parent: Mapped["{cls}"] = relationship(back_populates="items")
'''


def _schema(d: str, n_fields: int) -> str:
    cls = d.capitalize()
    fields = "\n".join(f"    field_{i}: str = ''" for i in range(n_fields))
    return f'''\
from pydantic import BaseModel, Field


class {cls}In(BaseModel):
{fields}


class {cls}Out({cls}In):
    id: int = Field(ge=1)


class {cls}Page(BaseModel):
    items: list[{cls}Out]
    total: int
'''


def _repository(d: str, n_methods: int) -> str:
    cls = d.capitalize()
    methods = "\n".join(f'''
    async def find_by_field_{i}(self, value: str, limit: int = 50) -> list[{cls}]:
        stmt = select({cls}).where({cls}.field_{i} == value).limit(limit)
        rows = await self.db.scalars(stmt)
        return list(rows)
''' for i in range(n_methods))
    return f'''\
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from svc.models.{d} import {cls}


class {cls}Repository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def get(self, item_id: int) -> {cls} | None:
        return await self.db.get({cls}, item_id)

    async def count(self) -> int:
        return await self.db.scalar(select(func.count()).select_from({cls}))

    async def add(self, obj: {cls}) -> {cls}:
        self.db.add(obj)
        await self.db.commit()
        return obj
{methods}'''


def _service(d: str, n_methods: int, blocking: str | None) -> str:
    cls = d.capitalize()
    methods = "\n".join(f'''
    async def search_{i}(self, value: str) -> list[{cls}Out]:
        rows = await self.repo.find_by_field_{i}(value)
        out = [{cls}Out.model_validate(r, from_attributes=True) for r in rows]
        if not out:
            log.info("no {d} with field_{i}=%s", value)
        return out
''' for i in range(n_methods))
    helper = {
        None: "        return {'name': name}",
        "sleep": "        backoff(1)\n        return {'name': name}",
        "http": "        return upstream.fetch('/{d}/' + name)".replace("{d}", d),
        "file": "        return {'template': load_template(name)}",
        "process": "        return {'pdf': convert_pdf(name).hex()}",
        "hash": "        return {'ok': verify_password(name, b'$2b$12$abc')}",
    }[blocking]
    return f'''\
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from svc.core.security import verify_password
from svc.repositories.{d} import {cls}Repository
from svc.schemas.{d} import {cls}In, {cls}Out
from svc.utils.files import backoff, convert_pdf, load_template
from svc.utils.http import notify, upstream

log = logging.getLogger(__name__)


def _describe(name: str) -> dict:
{helper}


class {cls}Service:
    def __init__(self, db: AsyncSession) -> None:
        self.repo = {cls}Repository(db)

    async def get(self, item_id: int) -> {cls}Out | None:
        obj = await self.repo.get(item_id)
        return {cls}Out.model_validate(obj, from_attributes=True) if obj else None

    async def describe(self, name: str) -> dict:
        return _describe(name)

    def render(self, name: str) -> str:
        return str(_describe(name))
{methods}'''


def _router(d: str, n_routes: int) -> str:
    cls = d.capitalize()
    routes = "\n".join(f'''
@router.get("/search/{i}", response_model=list[{cls}Out])
async def search_{i}(value: str, service: {cls}Service = Depends(get_service)) -> list[{cls}Out]:
    return await service.search_{i}(value)
''' for i in range(n_routes))
    return f'''\
from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from svc.core.db import get_db
from svc.schemas.{d} import {cls}Out
from svc.services.{d} import {cls}Service

router = APIRouter(prefix="/{d}", tags=["{d}"])


def get_service(db: AsyncSession = Depends(get_db)) -> {cls}Service:
    return {cls}Service(db)


@router.get("/{{item_id}}", response_model={cls}Out)
async def read(item_id: int, service: {cls}Service = Depends(get_service)) -> {cls}Out:
    found = await service.get(item_id)
    if found is None:
        raise HTTPException(status_code=404)
    return found


@router.get("/describe/{{name}}")
async def describe(name: str, service: {cls}Service = Depends(get_service)) -> dict:
    return await service.describe(name)


@router.get("/render/{{name}}")
async def render(name: str, service: {cls}Service = Depends(get_service)) -> str:
    return service.render(name)
{routes}'''


def generate(root: Path, lines: int) -> tuple[int, int]:
    """Write the service under ``root/svc``; (lines, files) written."""
    pkg = root / "svc"
    files: dict[str, str] = dict(_CORE)
    for sub in ("models", "schemas", "repositories", "services", "api"):
        files[f"{sub}/__init__.py"] = ""
    files["__init__.py"] = ""
    kinds = [None, None, None, "sleep", "http", "file", "process", "hash"]
    per_domain = 40 + 25 + 14 * 8 + 8 * 8 + 5 * 8 + 120  # lines of one domain's five modules, roughly
    n = max(1, lines // per_domain)
    domains = [f"domain{i:03d}" for i in range(n)]
    for i, d in enumerate(domains):
        files[f"models/{d}.py"] = _model(d, 20)
        files[f"schemas/{d}.py"] = _schema(d, 20)
        files[f"repositories/{d}.py"] = _repository(d, 14)
        files[f"services/{d}.py"] = _service(d, 14, kinds[i % len(kinds)])
        files[f"api/{d}.py"] = _router(d, 14)
    imports = "\n".join(f"from svc.api import {d}" for d in domains)
    mounts = "\n".join(f"app.include_router({d}.router, prefix='/api')" for d in domains)
    files["main.py"] = f"from fastapi import FastAPI\n\n{imports}\n\napp = FastAPI()\n{mounts}\n"
    total = 0
    for rel, text in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        total += text.count("\n")
    (root / "pyproject.toml").write_text('[project]\nname = "svc"\nversion = "0.1.0"\n', encoding="utf-8")
    return total, len(files)


def timed(cmd: list[str], repeat: int, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """The best wall and CPU time (user + system, of the command's processes) of ``repeat`` runs; its output."""
    best, best_cpu, out = float("inf"), float("inf"), ""
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, wall)
        best_cpu = min(best_cpu, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        out = p.stdout
        if p.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()[-500:]}")
    return best, best_cpu, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--dir", type=Path, default=None, help="where to generate the tree (a temporary folder in it)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="th-review-bench-", dir=args.dir))
    try:
        lines, files = generate(tmp, args.lines)
        target = tmp / "svc"
        print(f"generated {lines:,} lines in {files} files under {target}")
        ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff") or "ruff"
        ruff_s, ruff_cpu, _ = timed([ruff, "check", "--no-cache", "--isolated", "--exit-zero", "--quiet",
                                     str(target)], args.repeat)
        ours_cmd = [sys.executable, "-m", "tracehound", "review", str(target), "--format", "json"]
        ours_s, ours_cpu, out = timed(ours_cmd, args.repeat, env=dict(os.environ))
        doc = json.loads(out)
        by_rule = Counter(v["code"] for v in doc["violations"])
        print(f"tracehound review: {ours_s:6.2f} s wall, {ours_cpu:6.2f} s CPU  ({len(doc['violations'])} findings: "
              f"{', '.join(f'{c} {n}' for c, n in sorted(by_rule.items()))}; {len(doc['routes'])} routes; "
              f"imports from {doc['import_root']}, {len(doc['unresolved_imports'])} unresolved)")
        print(f"ruff check:        {ruff_s:6.2f} s wall, {ruff_cpu:6.2f} s CPU  (all its threads)")
        met = "met" if ours_s < BAR_SECONDS else "NOT met"
        print(f"ratio:             {ours_s / ruff_s:6.1f}x ruff's wall time, {ours_cpu / max(ruff_cpu, 1e-9):.1f}x its "
              f"CPU; {lines / ours_s:,.0f} lines/s; bar < {BAR_SECONDS:g} s: {met}")
        print(f"machine:           {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} "
              "(others' work slows wall times)")
        if args.profile:
            from tracehound.review import review

            prof = cProfile.Profile()
            prof.enable()
            review(target)
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
        return 0 if ours_s < BAR_SECONDS else 1
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
