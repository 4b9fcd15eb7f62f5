"""JSON Web Tokens found in a page's storage or a request's headers: their times, never their values.

A JWT's payload is only base64url-encoded, so its ``iat``, ``nbf`` and ``exp`` claims can be read
without the signing key. That is all tracehound keeps of a token: when it was issued, when it
expires, and how those compare with the moment it was used (a stored token's age and time to
expiry at the end of a page load; a sent token's at the start of its request). The token's text,
subject and any other claim stay out of every output.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

#: A compact JWS: base64url header (``{"…`` encodes to ``eyJ``), payload and signature.
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)^\s*bearer\s+(\S+)\s*$")
#: A token with less than this many seconds left when it is used is near expiry.
NEAR_EXPIRY_S = 30.0
#: A token whose whole lifetime (exp - iat) is under this is short-lived for an interactive session.
SHORT_LIFETIME_S = 120.0


@dataclass(frozen=True)
class TokenInfo:
    """The time claims of one JWT, seen at one moment (``at``, epoch seconds)."""

    #: where it was found: ``localStorage:key``, ``cookie:name``, ``authorization`` …
    where: str
    at: float
    alg: str | None = None
    iat: float | None = None
    nbf: float | None = None
    exp: float | None = None

    @property
    def age_s(self) -> float | None:
        """Seconds since the token was issued, at :attr:`at`."""
        return self.at - self.iat if self.iat is not None else None

    @property
    def expires_in_s(self) -> float | None:
        """Seconds left before ``exp`` at :attr:`at` (negative: expired that long ago)."""
        return self.exp - self.at if self.exp is not None else None

    @property
    def lifetime_s(self) -> float | None:
        """``exp - iat``: how long the issuer lets the token live."""
        return self.exp - self.iat if self.exp is not None and self.iat is not None else None

    @property
    def expired(self) -> bool:
        left = self.expires_in_s
        return left is not None and left <= 0

    @property
    def near_expiry(self) -> bool:
        """Still valid, but with less than :data:`NEAR_EXPIRY_S` (or a tenth of its lifetime) left."""
        left = self.expires_in_s
        if left is None or left <= 0:
            return False
        life = self.lifetime_s
        return left < NEAR_EXPIRY_S or (life is not None and life > 0 and left < 0.1 * life)

    @property
    def short_lived(self) -> bool:
        life = self.lifetime_s
        return life is not None and 0 < life < SHORT_LIFETIME_S

    def describe(self) -> str:
        """``localStorage:token: JWT (HS256) issued 42 s ago, lifetime 6 s, expired 36 s ago``."""
        parts = [f"{self.where}: JWT" + (f" ({self.alg})" if self.alg else "")]
        if self.age_s is not None:
            parts.append(f"issued {_span(self.age_s)} before")
        if self.lifetime_s is not None:
            parts.append(f"lifetime {_span(self.lifetime_s)}")
        left = self.expires_in_s
        if left is None:
            parts.append("no exp claim")
        elif left <= 0:
            parts.append(f"expired {_span(-left)} before")
        else:
            parts.append(f"{_span(left)} left")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        r = _round3
        return {"where": self.where, "alg": self.alg, "at": r(self.at), "iat": self.iat, "exp": self.exp,
                "age_s": r(self.age_s), "lifetime_s": r(self.lifetime_s), "expires_in_s": r(self.expires_in_s),
                "expired": self.expired, "near_expiry": self.near_expiry}


def _round3(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


def _span(seconds: float) -> str:
    s = abs(seconds)
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    if s < 172800:
        return f"{s / 3600:.0f} h"
    return f"{s / 86400:.0f} d"


def _b64json(part: str) -> dict[str, Any] | None:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def decode(token: str, where: str, at: float) -> TokenInfo | None:
    """The time claims of ``token`` seen at ``at`` (epoch seconds); None when it is not a JWT."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        return None
    header, payload = _b64json(parts[0]), _b64json(parts[1])
    if header is None or payload is None:
        return None
    alg = header.get("alg")
    return TokenInfo(where, at, alg if isinstance(alg, str) else None,
                     _number(payload.get("iat")), _number(payload.get("nbf")), _number(payload.get("exp")))


def find(text: str, where: str, at: float) -> list[TokenInfo]:
    """Every JWT inside ``text`` (a stored value, a JSON document, a cookie), decoded."""
    out = []
    for m in JWT.finditer(text or ""):
        info = decode(m.group(0), where, at)
        if info is not None:
            out.append(info)
    return out


def bearer(authorization: str | None, at: float) -> TokenInfo | None:
    """The JWT of an ``Authorization: Bearer …`` header, if it is one."""
    m = _BEARER.match(authorization or "")
    return decode(m.group(1), "authorization", at) if m else None


__all__ = ["JWT", "NEAR_EXPIRY_S", "SHORT_LIFETIME_S", "TokenInfo", "bearer", "decode", "find"]
