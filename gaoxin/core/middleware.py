from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from gaoxin.core.context import acting


def _valid_ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The address for the audit trail. Behind our own proxy, the rightmost X-Forwarded-For
    entry is the one that proxy appended; entries to its left are whatever the client sent."""
    if settings.GAOXIN_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        ip = _valid_ip(forwarded.split(",")[-1]) if forwarded else None
        if ip:
            return ip
    return _valid_ip(request.META.get("REMOTE_ADDR"))


class RequestContextMiddleware:
    """Makes the client address and channel available to services for the audit trail."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        channel = "api" if request.path.startswith("/api/") else "web"
        with acting(ip=client_ip(request), channel=channel):
            return self.get_response(request)


class ChineseFirstMiddleware:
    """Chinese unless the user chose otherwise with the language switch (a cookie).

    Browsers in a zone office are often set to English by the IT vendor; the interface should not
    change language because of that, so the Accept-Language header is ignored.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
