"""Who is acting, from where: set per request (or per command) so audit rows can say so."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class ActorContext:
    ip: str | None = None
    channel: str = "web"  # web | api | cli | system


_SYSTEM = ActorContext(channel="system")
_current: contextvars.ContextVar[ActorContext | None] = contextvars.ContextVar(
    "gaoxin_actor_context", default=None
)


def current() -> ActorContext:
    return _current.get() or _SYSTEM


@contextmanager
def acting(*, ip: str | None = None, channel: str = "web") -> Iterator[None]:
    token = _current.set(ActorContext(ip=ip, channel=channel))
    try:
        yield
    finally:
        _current.reset(token)
