"""The registry: every code-review check, listed. A rule is declared beside its check in
:mod:`tracehound.review.checks`; it runs, and is documented, once it is listed here."""

from __future__ import annotations

from collections.abc import Iterable

from tracehound.review.checks import cache, event_loop, http, limits, orm, pools, sessions, state, tokens
from tracehound.review.files import BadCodePath
from tracehound.review.rules import Check, Rule

#: Every check, in code order.
CHECKS: tuple[Check, ...] = (
    event_loop.blocking_call_in_async,  # TH101
    event_loop.coroutine_never_awaited,  # TH102
    event_loop.thread_lock_across_await,  # TH103
    event_loop.lock_held_across_io,  # TH104
    event_loop.expired_attribute_after_commit,  # TH105
    sessions.session_not_closed,  # TH201
    sessions.client_per_request,  # TH202
    pools.pool_too_small,  # TH203
    pools.pool_without_timeout,  # TH204
    pools.pool_without_liveness_check,  # TH205
    sessions.shared_session,  # TH206
    sessions.session_held_across_slow_call,  # TH207
    http.http_call_without_timeout,  # TH301
    http.http_timeout_too_tight,  # TH302
    http.keepalive_outlives_server,  # TH303
    orm.query_in_loop,  # TH401
    orm.cartesian_eager_load,  # TH402
    orm.unbounded_eager_load,  # TH403
    state.shared_state_across_await,  # TH501
    state.replica_read_without_fallback,  # TH502
    tokens.short_token_lifetime,  # TH601
    cache.cache_without_fallback,  # TH602
    cache.redis_pool_raises,  # TH603
    limits.rate_limit_in_app,  # TH604
)


def _by_code(checks: Iterable[Check]) -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for check in checks:
        if check.rule.code in rules:
            raise ValueError(f"rule {check.rule.code} declared twice")
        rules[check.rule.code] = check.rule
    return dict(sorted(rules.items()))


#: Every rule by code, in code order.
RULES: dict[str, Rule] = _by_code(CHECKS)


def all_rules() -> dict[str, Rule]:
    """Every rule by code, in code order."""
    return dict(RULES)


def get_rule(code: str) -> Rule:
    """A rule by its code (any case) or its name."""
    key = code.strip().upper()
    by_name = {r.name: r for r in RULES.values()}
    if key in RULES:
        return RULES[key]
    if code.strip() in by_name:
        return by_name[code.strip()]
    raise BadCodePath(f"unknown rule {code!r}", hint=f"known: {', '.join(RULES)}")


__all__ = ["CHECKS", "RULES", "all_rules", "get_rule"]
