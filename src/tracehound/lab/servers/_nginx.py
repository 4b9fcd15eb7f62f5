"""A throwaway nginx in front of app processes, configured by the ``http {}`` body a scenario gives."""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tracehound.errors import ServerFailed
from tracehound.lab.servers._binaries import find_binary
from tracehound.lab.servers._folders import temp_dir
from tracehound.lab.servers._ports import HOST, Launch, http_ready, start_listening
from tracehound.lab.servers._process import Process

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")

_NGINX_MAIN = """\
daemon off;
master_process off;
pid {root}/nginx.pid;
error_log {error_log} info;
events {{ worker_connections 1024; }}
http {{
    default_type application/octet-stream;
    log_format lab '$remote_addr [$time_iso8601] "$request" $status $body_bytes_sent '
                   'rt=$request_time urt=$upstream_response_time ua="$upstream_addr" us=$upstream_status';
    access_log {access_log} lab;
    client_body_temp_path {root}/client_body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
{body}
}}
"""


def render_template(text: str, values: Mapping[str, str], source: str = "template") -> str:
    """Replace ``{{name}}`` placeholders; an unknown name is an error (nginx's own ``$vars`` stay)."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in values:
            raise ServerFailed(f"{source}: unknown placeholder {{{{{name}}}}} (known: {', '.join(sorted(values))})")
        return str(values[name])

    return _PLACEHOLDER.sub(sub, text)


@dataclass
class Nginx:
    """A running nginx; ``url`` is its front door."""

    port: int
    config: Path
    error_log: Path
    access_log: Path
    process: Process | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


@contextlib.contextmanager
def nginx(log_dir: Path, http_block: str, upstreams: Sequence[str], source: str = "nginx.conf") -> Iterator[Nginx]:
    """nginx in front of ``upstreams`` (``host:port``), configured by the ``http {}`` body a scenario gives.

    Placeholders in ``http_block``: ``{{listen}}`` (``127.0.0.1:PORT``), ``{{upstream}}`` (the first
    upstream), ``{{upstream_servers}}`` (one ``server host:port;`` line per upstream). The main
    context, logs and temp paths are generated here, in a temp folder.
    """
    binary = find_binary("nginx", "nginx", ["/usr/sbin"])
    root = temp_dir("nginx")
    log_dir.mkdir(parents=True, exist_ok=True)
    error_log, access_log = log_dir / "nginx-error.log", log_dir / "nginx-access.log"
    try:

        def make(port: int) -> Launch:
            body = render_template(
                http_block,
                {
                    "listen": f"{HOST}:{port}",
                    "upstream": upstreams[0],
                    "upstream_servers": "\n".join(f"        server {u};" for u in upstreams),
                },
                source,
            )
            conf = root / "nginx.conf"
            conf.write_text(
                _NGINX_MAIN.format(root=root, error_log=error_log, access_log=access_log, body=_indent(body))
            )
            argv = [binary, "-p", str(root), "-c", str(conf), "-e", str(error_log)]
            proc = Process("nginx", argv, error_log, cwd=root, stop_signal=signal.SIGTERM)
            return proc, lambda: http_ready(port), "serving HTTP"

        proc, port = start_listening(make)
        try:
            yield Nginx(port, root / "nginx.conf", error_log, access_log, proc)
        finally:
            proc.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _indent(text: str) -> str:
    return "\n".join(("    " + line) if line.strip() else "" for line in text.splitlines())
