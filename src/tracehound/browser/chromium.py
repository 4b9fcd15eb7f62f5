"""Debian's Chromium, driven headless through Playwright, kept off the network.

tracehound never downloads a browser (no ``playwright install``): it launches the Chromium the
system has, ``/usr/bin/chromium`` by default or ``$TRACEHOUND_CHROMIUM``. The flags below stop
every call Chromium makes on its own (component and safe-browsing updates, sync, metrics, field
trials, translation, domain reliability), so the only traffic is the page's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Any

from tracehound.errors import TracehoundError

DEFAULT_EXECUTABLE = "/usr/bin/chromium"
ENV_EXECUTABLE = "TRACEHOUND_CHROMIUM"
DEBIAN_PACKAGE = "chromium"

#: Chromium switches: no background traffic, no first-run UI, no crash uploads, a small /dev/shm is fine.
FLAGS: tuple[str, ...] = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--safebrowsing-disable-auto-update",
    "--disable-breakpad",
    "--metrics-recording-only",
    "--no-pings",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-service-autorun",
    "--password-store=basic",
    "--use-mock-keychain",
    "--disable-dev-shm-usage",
    "--disable-field-trial-config",
    ("--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,"
     "CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions,DialMediaRouteProvider"),
)


class BrowserMissing(TracehoundError):
    """Chromium, or the Playwright package that drives it, is not installed."""

    exit_code = 3


class BadPage(TracehoundError):
    """The page URL cannot be loaded at all, or is not an HTML page."""

    exit_code = 3


def executable() -> Path:
    """The Chromium binary to launch; :class:`BrowserMissing` naming the Debian package when absent."""
    given = os.environ.get(ENV_EXECUTABLE)
    candidates = [given] if given else [DEFAULT_EXECUTABLE, shutil.which("chromium") or ""]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return Path(c)
    where = given or DEFAULT_EXECUTABLE
    raise BrowserMissing(f"Chromium is not installed ({where} not found)",
                         hint=f"install the Debian package {DEBIAN_PACKAGE}: apt-get install {DEBIAN_PACKAGE}")


def start() -> tuple[Any, Any]:
    """Start Playwright and launch headless Chromium: ``(playwright, browser)``; stop both with :func:`stop`."""
    exe = executable()
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise BrowserMissing("the browser extra is not installed (no playwright)",
                             hint="pip install 'tracehound[browser]'") from None
    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=str(exe), headless=True, args=list(FLAGS))
    except PlaywrightError as e:
        pw.stop()
        first = (str(e).strip().splitlines() or ["unknown error"])[0]
        raise BrowserMissing(f"Chromium at {exe} did not start: {first}",
                             hint=f"reinstall the Debian package {DEBIAN_PACKAGE}") from None
    return pw, browser


def stop(pw: Any, browser: Any) -> None:
    """Close the browser and stop Playwright, whatever state they are in."""
    with contextlib.suppress(Exception):  # already gone (crashed, or closed by Ctrl-C)
        browser.close()
    with contextlib.suppress(Exception):  # the driver may already have exited
        pw.stop()


__all__ = ["DEBIAN_PACKAGE", "FLAGS", "BadPage", "BrowserMissing", "executable", "start", "stop"]
