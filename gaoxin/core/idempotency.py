"""`Idempotency-Key` for the API's money-moving requests (approve, schedule, pay, redeem …).

The key is stored (per user) before the handler runs, in its own committed write, with a
fingerprint of the method, path and body. A retry with the same key gets the stored response
back without acting again; one arriving while the first still runs gets 409; the same key on a
different request gets 422. A handler that raises unexpectedly frees the key for a retry. The
services' own guards (conditional updates, unique constraints) still hold without a key: the
key only turns a refused second attempt into the first attempt's answer."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from gaoxin.core.api_bodies import service_error_body
from gaoxin.core.models import IdempotencyKey

HEADER = "Idempotency-Key"


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() if request.method else b"")
    digest.update(request.path.encode())
    digest.update(request.body or b"")
    return digest.hexdigest()


def once(request: HttpRequest, run: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
    """Runs `run` (which returns (status, body)) at most once per Idempotency-Key; without the
    header it just runs."""
    key = (request.headers.get(HEADER) or "").strip()
    if not key:
        return run()
    if len(key) > 100:
        raise ValidationError({"Idempotency-Key": _("幂等键不能超过100个字符")})
    fingerprint = _fingerprint(request)
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(
                user=request.user, key=key, fingerprint=fingerprint
            )
    except IntegrityError:
        earlier = IdempotencyKey.objects.get(user=request.user, key=key)
        if earlier.fingerprint != fingerprint:
            return 422, {
                "detail": _("该幂等键已用于另一个请求"),
                "errors": [{"field": HEADER, "message": _("该幂等键已用于另一个请求")}],
            }
        if earlier.status_code == 0:
            return 409, {"detail": _("相同的请求正在处理,请稍后重试")}
        return earlier.status_code, earlier.body
    try:
        status, body = run()
    except ValidationError as exc:
        status, body = 422, service_error_body(exc)
    except Exception:
        record.delete()
        raise
    record.status_code = status
    record.body = body
    record.save(update_fields=["status_code", "body"])
    return status, body
