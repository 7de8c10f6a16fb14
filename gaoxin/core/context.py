"""Who is acting, from where: set per request (or per command) so audit rows can say so."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class ActorContext:
    ip: str | None = None
    channel: str = "web"  # web | api | cli | system
    # Audit rows written inside `acting(batch=…)` share this batch (one demo load, one run).
    batch: uuid.UUID | None = None


_SYSTEM = ActorContext(channel="system")
_current: contextvars.ContextVar[ActorContext | None] = contextvars.ContextVar(
    "gaoxin_actor_context", default=None
)


def current() -> ActorContext:
    return _current.get() or _SYSTEM


@contextmanager
def acting(
    *, ip: str | None = None, channel: str = "web", batch: uuid.UUID | None = None
) -> Iterator[None]:
    token = _current.set(ActorContext(ip=ip, channel=channel, batch=batch))
    try:
        yield
    finally:
        _current.reset(token)
