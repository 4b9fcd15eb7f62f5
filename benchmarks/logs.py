"""How fast the log analyst reads a gigabyte of mixed service logs, in how much memory, and whether
it finds what was planted in them.

A script, not a test. It writes (once, then reuses from the temp folder) an hour of logs of a
busy service: nginx access logs (one of them rotated and gzipped), nginx's error log, the app's
own log (Python logging and uvicorn lines, tracebacks), gunicorn's error log, a JSON-lines log
and PostgreSQL's log, about 1 GB in all. Planted in them: SQLAlchemy pool timeouts written at the
moments a synthetic run's requests failed (so they must come out aligned with the failures),
nginx upstream timeouts, gunicorn worker timeouts, PostgreSQL deadlocks, Redis timeouts, and
a background of ordinary errors. Then it times :func:`tracehound.logs.analyze_logs` over all of
it in a child process (so that peak RSS is the analyst's own), and, as peers on the same files,
``grep -c`` (a scan that understands nothing) and drain3's ``TemplateMiner`` with masking
instructions fed every line of a sample (Drain as documented, without deduplication; it only
mines templates: no events, times, signatures or alignment).

Exit status 0 when the run is under the bar and every planted signature was found, 1 otherwise.

    .venv/bin/python benchmarks/logs.py                  # 1 GB, bar 120 s
    .venv/bin/python benchmarks/logs.py --size 0.1       # 100 MB, for a quick look
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

T0 = int(datetime(2026, 3, 1, 14, 0, tzinfo=UTC).timestamp())
HOUR = 3600
#: The synthetic run: ten minutes in the middle of the hour, 5 % of its requests fail.
RUN_FROM, RUN_TO, RUN_REQUESTS, RUN_FAIL = T0 + 1200, T0 + 1800, 120_000, 0.05
VERSION = 2
#: Share of the bytes of each file.
SHARES = {"nginx-access.log": 0.33, "nginx-access.log.1.gz": 0.05, "nginx-error.log": 0.03, "app.log": 0.25,
          "gunicorn.log": 0.03, "app.jsonl": 0.19, "postgresql.log": 0.12}
PLANTED = {"log:pool_checkout_timeout", "log:upstream_timed_out", "log:worker_timeout", "log:deadlock_detected",
           "log:cache_timeout", "log:template_aligned_with_failures"}

PATHS = ["/api/orders/{}", "/api/users/{}/profile", "/api/items?page={}", "/api/cart/{}", "/health",
         "/api/search?q=lamp&page={}"]
UA = ['"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/121.0 Safari/537.36"', '"okhttp/4.12.0"',
      '"python-httpx/0.27.0"', '"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) Mobile/15E148"']
APP_INFO = ["order {} created for customer {} total={}.{:02d} EUR", "cache miss for product:{} refreshing ({} ms)",
            "user {} signed in from {}", "payment {} authorised in {} ms", "shipping quote for order {}: {} cents",
            "sent confirmation mail to customer {} (queue depth {})"]


def _ts_py(t: float) -> str:
    d = datetime.fromtimestamp(t, UTC)
    return f"{d:%Y-%m-%d %H:%M:%S},{int((t % 1) * 1000):03d}"


class _Writer:
    """Buffered line writing until a byte budget is met."""

    def __init__(self, path: Path, budget: int, gz: bool = False) -> None:
        self.f = gzip.open(path, "wt", compresslevel=1) if gz else open(path, "w", buffering=1 << 20)  # noqa: SIM115  # closed by close()
        self.budget = budget
        self.written = 0
        self.buf: list[str] = []

    def add(self, line: str) -> None:
        self.buf.append(line)
        self.written += len(line) + 1
        if len(self.buf) >= 20_000:
            self.flush()

    def flush(self) -> None:
        if self.buf:
            self.f.write("\n".join(self.buf) + "\n")
            self.buf.clear()

    @property
    def full(self) -> bool:
        return self.written >= self.budget

    def close(self) -> None:
        self.flush()
        self.f.close()


def _times(rng: np.random.Generator, budget: int, line_bytes: int, start: float = T0) -> np.ndarray:
    n = max(1, budget // line_bytes)
    return np.sort(rng.uniform(start, start + HOUR, n))


def gen_access(path: Path, budget: int, rng: np.random.Generator, gz: bool = False, start: float = T0) -> int:
    w = _Writer(path, budget, gz)
    planted = 0
    ups = ["10.0.1.11:8000", "10.0.1.12:8000", "10.0.1.13:8000"]
    for t in _times(rng, budget, 230, start):
        d = datetime.fromtimestamp(t, UTC)
        p = random.choice(PATHS).format(random.randint(1, 99999))
        st = 200 if random.random() > 0.02 else random.choice((404, 500, 502, 504))
        rt = random.lognormvariate(-3, 0.8)
        w.add(f'10.2.{random.randint(0, 255)}.{random.randint(1, 254)} - - [{d:%d/%b/%Y:%H:%M:%S} +0000] '
              f'"GET {p} HTTP/1.1" {st} {random.randint(80, 9000)} "-" {random.choice(UA)} '
              f'rt={rt:.3f} uct=0.001 urt={rt:.3f} ua="{random.choice(ups)}" us={st} '
              f'rid={random.getrandbits(64):016x}')
        planted += st == 504
        if w.full:
            break
    w.close()
    return planted


def gen_nginx_error(path: Path, budget: int, rng: np.random.Generator) -> int:
    w = _Writer(path, budget)
    planted = 0
    for t in _times(rng, budget, 250):
        d = datetime.fromtimestamp(t, UTC)
        r = random.random()
        cid = random.randint(1, 10**7)
        pre = f"{d:%Y/%m/%d %H:%M:%S}"
        if r < 0.25:
            planted += 1
            w.add(f'{pre} [error] 31#31: *{cid} upstream timed out (110: Connection timed out) while reading response '
                  f'header from upstream, client: 10.2.3.{cid % 250}, server: api, '
                  f'request: "GET /api/users/{cid}/profile '
                  f'HTTP/1.1", upstream: "http://10.0.1.12:8000/api/users/{cid}/profile", host: "api.example.com"')
        elif r < 0.35:
            w.add(f'{pre} [warn] 31#31: *{cid} an upstream response is buffered to a temporary file '
                  f'/var/cache/nginx/proxy_temp/{cid % 10}/{cid % 100:02d}/{cid:010d} while reading upstream')
        else:
            w.add(f"{pre} [info] 31#31: *{cid} client 10.2.3.{cid % 250} closed keepalive connection")
        if w.full:
            break
    w.close()
    return planted


TRACEBACK = """{head}
Traceback (most recent call last):
  File "/srv/shop/.venv/lib/python3.11/site-packages/uvicorn/protocols/http/httptools_impl.py", line 419, in run_asgi
    result = await app(  # type: ignore[func-returns-value]
  File "/srv/shop/.venv/lib/python3.11/site-packages/starlette/routing.py", line 74, in app
    response = await func(request)
  File "/srv/shop/app/orders.py", line {line}, in read_order
    order = db.scalars(select(Order).where(Order.id == order_id)).one()
  File "/srv/shop/.venv/lib/python3.11/site-packages/sqlalchemy/pool/impl.py", line 165, in _do_get
    raise exc.TimeoutError(
sqlalchemy.exc.TimeoutError: QueuePool limit of size 10 overflow 5 reached, connection timed out, timeout 1.00 \
(Background on this error at: https://sqlalche.me/e/20/3o7r)"""

REDIS_TB = """{head}
Traceback (most recent call last):
  File "/srv/shop/app/cache.py", line 31, in get_price
    raw = await redis.get(f"price:{{sku}}")
  File "/srv/shop/.venv/lib/python3.11/site-packages/redis/asyncio/connection.py", line 572, in read_response
    raise TimeoutError(f"Timeout reading from {{host_error}}")
redis.exceptions.TimeoutError: Timeout reading from 10.0.2.5:6379"""


def gen_app(path: Path, budget: int, rng: np.random.Generator, fail_ends: np.ndarray) -> int:
    """Python logging and uvicorn lines; a pool-timeout traceback 2 ms before each failing request ended."""
    w = _Writer(path, budget)
    times = _times(rng, budget, 95)
    marks = np.concatenate([np.zeros(len(times), np.int8), np.ones(len(fail_ends), np.int8)])
    allt = np.concatenate([times, fail_ends - 0.002])
    order = np.argsort(allt, kind="stable")
    planted = 0
    for t, m in zip(allt[order].tolist(), marks[order].tolist(), strict=True):
        if m:
            planted += 1
            w.add(TRACEBACK.format(head=f"{_ts_py(t)} ERROR shop.orders: order {random.randint(1, 99999)} failed",
                                   line=random.randint(40, 60)))
            continue
        r = random.random()
        if r < 0.002:
            w.add(REDIS_TB.format(head=f"{_ts_py(t)} ERROR shop.cache: price lookup failed"))
        elif r < 0.01:
            w.add(f"{_ts_py(t)} WARNING shop.carrier: quote for order {random.randint(1, 99999)} took "
                  f"{random.randint(900, 3000)} ms")
        elif r < 0.03:
            w.add(f'INFO:     10.0.1.{random.randint(2, 9)}:{random.randint(30000, 60000)} - "GET /api/orders/'
                  f'{random.randint(1, 99999)} HTTP/1.1" 200 OK')
        else:
            w.add(f"{_ts_py(t)} INFO shop.orders: " + random.choice(APP_INFO).format(
                random.randint(1, 99999), random.randint(1, 9999), random.randint(1, 400), random.randint(0, 99)))
        if w.full:
            break
    w.close()
    return planted


def gen_gunicorn(path: Path, budget: int, rng: np.random.Generator) -> int:
    w = _Writer(path, budget)
    planted = 0
    for t in _times(rng, budget, 110):
        d = datetime.fromtimestamp(t, UTC)
        pre = f"[{d:%Y-%m-%d %H:%M:%S} +0000]"
        r = random.random()
        pid = random.randint(1000, 60000)
        if r < 0.01:
            planted += 1
            w.add(f"{pre} [120] [CRITICAL] WORKER TIMEOUT (pid:{pid})")
        elif r < 0.02:
            w.add(f"{pre} [120] [INFO] Booting worker with pid: {pid}")
        else:
            w.add(f'{pre} [{pid}] [INFO] 10.0.0.{pid % 250}:{pid} - "POST /api/reports/{pid} HTTP/1.1" 200')
        if w.full:
            break
    w.close()
    return planted


def gen_jsonl(path: Path, budget: int, rng: np.random.Generator) -> int:
    w = _Writer(path, budget)
    for t in _times(rng, budget, 230):
        d = datetime.fromtimestamp(t, UTC)
        r = random.random()
        rec = {"timestamp": f"{d:%Y-%m-%dT%H:%M:%S}.{int((t % 1) * 1e6):06d}Z", "level": "info", "logger": "billing",
               "request_id": f"{random.getrandbits(128):032x}"}
        if r < 0.003:
            rec.update(level="error", message=f"invoice {random.randint(1, 10**6)} render failed",
                       exc_info="Traceback (most recent call last):\n"
                                "  File \"/srv/billing/render.py\", line 88, in render\n"
                                "    total = sum(line.amount for line in lines)\n"
                                "TypeError: unsupported operand type(s) for +: 'int' and 'NoneType'")
        else:
            rec.update(message=f"invoice {random.randint(1, 10**6)} rendered in {random.randint(3, 90)} ms",
                       customer=random.randint(1, 99999), pages=random.randint(1, 9))
        w.add(json.dumps(rec))
        if w.full:
            break
    w.close()
    return 0


def gen_postgres(path: Path, budget: int, rng: np.random.Generator) -> int:
    w = _Writer(path, budget)
    planted = 0
    for t in _times(rng, budget, 140):
        d = datetime.fromtimestamp(t, UTC)
        pre = f"{d:%Y-%m-%d %H:%M:%S}.{int((t % 1) * 1000):03d} UTC [{random.randint(1000, 90000)}] app@shop"
        r = random.random()
        if r < 0.001:
            planted += 1
            w.add(f"{pre} ERROR:  deadlock detected")
            w.add(f"{pre} DETAIL:  Process 4133 waits for ShareLock on transaction {random.randint(1, 10**6)}; "
                  "blocked by process 4140.")
            w.add(f"{pre} STATEMENT:  UPDATE stock SET qty = qty - 1 WHERE sku = 'sku-{random.randint(1, 999)}'")
        elif r < 0.3:
            w.add(f"{pre} LOG:  duration: {random.uniform(1000, 4000):.3f} ms  statement: SELECT * FROM orders WHERE "
                  f"customer_id = {random.randint(1, 99999)} ORDER BY created_at DESC")
        else:
            w.add(f"{pre} LOG:  connection authorized: user=app database=shop "
                  f"application_name=shop-{random.randint(1, 8)}")
        if w.full:
            break
    w.close()
    return planted


def make_run(seed: int = 7):
    from tracehound.analysis.synthetic import FakeRun, table

    rng = np.random.default_rng(seed)
    start = np.sort(rng.uniform(0, RUN_TO - RUN_FROM, RUN_REQUESTS))
    fail = rng.random(RUN_REQUESTS) < RUN_FAIL
    lat = np.where(fail, 1000 + rng.exponential(3, RUN_REQUESTS), rng.lognormal(np.log(40), 0.3, RUN_REQUESTS))
    t = table(RUN_REQUESTS, start_s=start, latency_ms=lat, status=np.where(fail, 500, 200), epoch_ns=RUN_FROM * 10**9)
    ends = RUN_FROM + start[fail] + lat[fail] / 1000
    return FakeRun(t, {"run_id": "bench"}, "bench-run"), ends


def generate(folder: Path, size: float) -> dict[str, int]:
    """Write the logs (unless a complete set is already there); returns the planted counts."""
    manifest = folder / "manifest.json"
    if manifest.exists():
        return json.loads(manifest.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    random.seed(1)
    rng = np.random.default_rng(1)
    total = int(size * 1e9)
    _, fail_ends = make_run()
    planted: dict[str, int] = {}
    t0 = time.perf_counter()
    for name, share in SHARES.items():
        budget = int(total * share)
        p = folder / name
        if name == "nginx-access.log":
            planted["upstream_504"] = gen_access(p, budget, rng)
        elif name.endswith(".gz"):
            gen_access(p, budget, rng, gz=True, start=T0 - HOUR)
        elif name == "nginx-error.log":
            planted["log:upstream_timed_out"] = gen_nginx_error(p, budget, rng)
        elif name == "app.log":
            planted["log:pool_checkout_timeout"] = gen_app(p, budget, rng, fail_ends)
        elif name == "gunicorn.log":
            planted["log:worker_timeout"] = gen_gunicorn(p, budget, rng)
        elif name == "app.jsonl":
            gen_jsonl(p, budget, rng)
        else:
            planted["log:deadlock_detected"] = gen_postgres(p, budget, rng)
        print(f"  wrote {name}: {p.stat().st_size / 1e6:.0f} MB on disk", file=sys.stderr)
    print(f"  generated in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    manifest.write_text(json.dumps(planted))
    return planted


def measure(folder: Path) -> None:
    """The child process: analyse, print one JSON line."""
    from tracehound.logs import analyze_logs

    run, _ = make_run()
    t0 = time.perf_counter()
    r = analyze_logs(sorted(p for p in folder.iterdir() if p.name != "manifest.json"), runs=[run])
    secs = time.perf_counter() - t0
    plain = sum(p.stat().st_size for p in folder.iterdir() if not p.name.endswith(".gz") and p.name != "manifest.json")
    gz_text = 0
    for p in folder.glob("*.gz"):
        with gzip.open(p, "rb") as g:
            while chunk := g.read(1 << 22):
                gz_text += len(chunk)
    print(json.dumps({
        "seconds": secs, "bytes_on_disk": r.bytes, "bytes_text": plain + gz_text, "events": r.events,
        "templates": r.template_count, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "signals": {o.name: [round(o.strength, 2), o.value] for o in r.observations},
        "signatures": {s.id: s.count for s in r.signatures},
        "lift": {t.template[:60]: round(t.alignment.lift or 0, 1) for t in r.over_represented[:3]},
        "skipped": [f.path for f in r.skipped],
    }))


def peer_grep(folder: Path) -> float:
    t0 = time.perf_counter()
    for p in sorted(folder.iterdir()):
        if p.name == "manifest.json":
            continue
        cmd = ["zgrep" if p.suffix == ".gz" else "grep", "-c", "-E", "ERROR|error|FATAL|CRITICAL", str(p)]
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def peer_drain(folder: Path, per_file: int) -> tuple[float, int]:
    """drain3's ``TemplateMiner``, with masking instructions for ids, IPs, hex and numbers, fed every
    raw line of the first ``per_file`` bytes of each plain file: Drain as its documentation uses it."""
    from drain3 import TemplateMiner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    cfg = TemplateMinerConfig()
    cfg.profiling_enabled = False
    cfg.masking_instructions = [
        MaskingInstruction(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b", "UUID"),
        MaskingInstruction(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b", "IP"),
        MaskingInstruction(r"\b0x[0-9a-fA-F]+\b|\b[0-9a-fA-F]{12,}\b", "HEX"),
        MaskingInstruction(r"(?<![A-Za-z0-9])[-+]?\d+(?:\.\d+)?(?![A-Za-z0-9])", "NUM"),
    ]
    miner = TemplateMiner(config=cfg)
    done = 0
    t0 = time.perf_counter()
    for p in sorted(folder.iterdir()):
        if p.suffix == ".gz" or p.name == "manifest.json":
            continue
        taken = 0
        with open(p, encoding="utf-8") as f:
            for line in f:
                miner.add_log_message(line.rstrip("\n"))
                taken += len(line)
                if taken >= per_file:
                    break
        done += taken
    return time.perf_counter() - t0, done


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=float, default=1.0, help="GB of logs to generate (default 1)")
    ap.add_argument("--bar", type=float, default=120.0, help="seconds the analysis must stay under (default 120)")
    ap.add_argument("--dir", type=Path, default=None, help="where to keep the generated logs")
    ap.add_argument("--measure", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure is not None:
        measure(args.measure)
        return 0
    folder = args.dir or Path(tempfile.gettempdir()) / f"tracehound-bench-logs-v{VERSION}-{args.size:g}GB"
    print(f"logs in {folder}", file=sys.stderr)
    planted = generate(folder, args.size)
    child = subprocess.run([sys.executable, __file__, "--measure", str(folder)], capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": "0"}, check=False)
    if child.returncode != 0:
        print(child.stderr, file=sys.stderr)
        return 1
    m = json.loads(child.stdout.strip().splitlines()[-1])
    mbs = m["bytes_text"] / 1e6 / m["seconds"]
    print(f"tracehound logs: {m['bytes_text'] / 1e6:.0f} MB of text ({m['bytes_on_disk'] / 1e6:.0f} MB on disk), "
          f"{m['events']:,} events, {m['templates']} templates in {m['seconds']:.1f} s = {mbs:.1f} MB/s; "
          f"peak RSS {m['rss_mb']:.0f} MB")
    g = peer_grep(folder)
    print(f"peer grep -c (no parsing, no templates): {g:.1f} s = {m['bytes_text'] / 1e6 / g:.0f} MB/s; "
          f"tracehound takes {m['seconds'] / g:.1f}x as long")
    ds, db = peer_drain(folder, 3_000_000)
    dmbs = db / 1e6 / ds
    print(f"peer drain3 TemplateMiner with masking, every line ({db / 1e6:.0f} MB sample of the same files): "
          f"{dmbs:.2f} MB/s; tracehound reads {mbs / dmbs:.1f}x as fast")
    print("signals:", json.dumps(m["signals"]))
    print("signatures:", json.dumps(m["signatures"]))
    print("over-represented around failures (lift):", json.dumps(m["lift"]))
    found = set(m["signals"])
    missing = sorted(PLANTED - found)
    counts_ok = all(m["signatures"].get(sid, 0) >= planted.get(sig, 0) for sid, sig in (
        ("sqlalchemy_queuepool_limit", "log:pool_checkout_timeout"),
        ("nginx_upstream_timed_out", "log:upstream_timed_out"),
        ("gunicorn_worker_timeout", "log:worker_timeout"), ("pg_deadlock", "log:deadlock_detected")))
    print(f"planted: {planted}")
    ok = m["seconds"] < args.bar and not missing and counts_ok and not m["skipped"]
    print(("OK" if ok else "FAIL") + f": {m['seconds']:.1f} s (bar {args.bar:.0f} s)"
          + (f"; missing signals {missing}" if missing else "")
          + ("" if counts_ok else "; planted counts not all found"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
