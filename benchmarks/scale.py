"""Production scale: generate ~10 GB of nginx access logs with an injected failure, import, analyse.

    python benchmarks/scale.py [--gb 10] [--dir /tmp] [--keep]

The log has ``$request_time $upstream_response_time $upstream_addr`` appended and one upstream
answering half its requests with 504 after a ~60 s timeout between 14:00 and 15:00. Prints the
generation rate, the import's MB/s and peak memory (DuckDB runs in this process: the peak RSS of
the process, sampled, and ru_maxrss), the analysis time, and whether the analysis found the
upstream and the window. Bars: import >= 100 MB/s, peak memory < 2 GB, analysis < 60 s, found.
Temporary files live under ``--dir`` and are removed at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Self

import psutil

from tracehound.access import import_access_log
from tracehound.access.synthetic import LINE_BYTES, write_nginx_log
from tracehound.agents.access_log import analyze_import

BARS = {"import_mb_s": 100.0, "peak_gb": 2.0, "analysis_s": 60.0}


class PeakRss:
    """The process's resident memory, sampled every 50 ms in a thread, from a baseline."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self) -> Self:
        self.peak = self.proc.memory_info().rss
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gb", type=float, default=10.0, help="size of the generated log (GB)")
    ap.add_argument("--dir", default=tempfile.gettempdir(), help="where the temporary files go")
    ap.add_argument("--keep", action="store_true", help="keep the log and the import folder")
    args = ap.parse_args()

    if args.dir:
        Path(args.dir).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tracehound-scale-", dir=args.dir))
    log = work / "access.log"
    ok = True
    try:
        lines = int(args.gb * 1e9 / LINE_BYTES)
        print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} "
              f"on {os.cpu_count()} cores")
        t = time.perf_counter()
        injected = write_nginx_log(log, lines)
        gen_s = time.perf_counter() - t
        size = log.stat().st_size
        print(f"generated {size / 1e9:.2f} GB, {lines:,} lines in {gen_s:.1f} s ({size / 1e6 / gen_s:.0f} MB/s); "
              f"injected: {injected.upstream} answers {injected.share:.0%} of its requests 504 after "
              f"{injected.plateau_s:.0f} s between {injected.start:%H:%M} and {injected.end:%H:%M} UTC")

        shown = [-1]

        def progress(done: float) -> None:
            if int(done * 20) > shown[0]:
                shown[0] = int(done * 20)
                sys.stderr.write(f"importing… {done:4.0%}\n")

        with PeakRss() as mem:
            t = time.perf_counter()
            imp = import_access_log(log, out=work / "import", on_progress=progress)
            import_s = time.perf_counter() - t
        mb_s = size / 1e6 / import_s
        m = imp.imported
        print(f"import: {mb_s:.0f} MB/s ({import_s:.1f} s), {m.rows or 0:,} rows, {m.bad_lines or 0:,} bad lines, "
              f"peak RSS {mem.peak / 2**30:.2f} GiB "
              f"(ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB), "
              f"Parquet {sum(f.stat().st_size for f in (work / 'import').rglob('*.parquet')) / 1e9:.2f} GB")
        log.unlink()  # the disk holds the import alone from here

        with PeakRss() as amem:
            t = time.perf_counter()
            res = analyze_import(imp)
            analysis_s = time.perf_counter() - t
        print(f"analysis: {analysis_s:.1f} s, peak RSS {amem.peak / 2**30:.2f} GiB; {res.detail}")
        for f in res.findings:
            for s in f.signals:
                print(f"  signal {s.name} ({s.strength:.2f}): {s.detail[:160]}")
        sigs = {s.name: s for s in res.signals}
        server = sigs.get("failures_on_one_server")
        upstream_found = server is not None and injected.upstream in server.detail
        time_sig = sigs.get("failures_bursty")
        minute = timedelta(seconds=30)  # the injected bounds, to the minute the timeline reports
        start, end = injected.start + minute, injected.end + minute
        window_found = time_sig is not None and f"between {start:%H:%M} and {end:%H:%M}" in time_sig.detail
        plateau = sigs.get("failure_latency_plateau")
        plateau_found = (plateau is not None
                         and abs((plateau.value or 0) - injected.plateau_s) < 0.05 * injected.plateau_s)
        found = upstream_found and window_found and plateau_found
        peak_gb = max(mem.peak, amem.peak) / 1e9
        checks = [("import >= 100 MB/s", mb_s >= BARS["import_mb_s"], f"{mb_s:.0f} MB/s"),
                  ("peak memory < 2 GB", peak_gb < BARS["peak_gb"], f"{peak_gb:.2f} GB"),
                  ("analysis < 60 s", analysis_s < BARS["analysis_s"], f"{analysis_s:.1f} s"),
                  ("failure found", found,
                   f"upstream {upstream_found}, window {window_found}, plateau {plateau_found}")]
        for name, passed, figure in checks:
            print(f"{'PASS' if passed else 'FAIL'}  {name}: {figure}")
            ok &= passed
        print(f"load after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
