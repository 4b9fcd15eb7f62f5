"""The web debugger: a page loaded again and again in headless Chromium, and HAR files read.

>>> result = browse("http://127.0.0.1:8000/profile", times=10)      # doctest: +SKIP
>>> [ld.reasons for ld in result.failed_loads]                      # doctest: +SKIP
[['1 API call failed', "the page shows an error: 'Failed to load user data'"]]

Needs the ``browser`` extra (``pip install 'tracehound[browser]'``, which brings Playwright) and
Debian's ``chromium`` package; no browser is ever downloaded. Playwright is imported only when a
page is loaded, so the rest of tracehound works without it.
"""

from tracehound.browser.chromium import BadPage, BrowserMissing
from tracehound.browser.page_load import (
    BrowseResult,
    ConsoleEntry,
    NetworkCall,
    PageLoad,
    StoredItem,
)
from tracehound.browser.session import Chromium, browse
from tracehound.browser.tokens import TokenInfo

__all__ = [
    "BadPage",
    "BrowseResult",
    "BrowserMissing",
    "Chromium",
    "ConsoleEntry",
    "NetworkCall",
    "PageLoad",
    "StoredItem",
    "TokenInfo",
    "browse",
]
