"""The rule families; importing this package declares every rule (see :mod:`tracehound.review.rules`)."""

from tracehound.review.checks import cache, event_loop, http, limits, orm, pools, sessions, state, tokens

__all__ = ["cache", "event_loop", "http", "limits", "orm", "pools", "sessions", "state", "tokens"]
