"""Small leaks, the rules alone: which links a shop supplies are kept, and what
the refund failure log carries. On the pages: ``tests/test_hardening_leaks.py``."""

from __future__ import annotations

import logging

import pytest

from mirette_returns_plugin import AdapterError
from mirette_returns_plugin.links import safe_url

from . import steps
from .tiny_shop import LUNE

HOSTILE_URLS = ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
                "java\nscript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)",
                "http:evil.example", "java script:alert(1)", "\\\\evil.example/x", "", None, 42]
FINE_URLS = ["https://atelier-lune.example/terms", "http://shop.example/a?b=1#c", "/artists/3",
             "terms.html", "?page=2", "#terms", "//cdn.shop.example/x.jpg"]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_link_with_another_scheme_is_refused(url):
    assert safe_url(url) is None


@pytest.mark.parametrize("url", FINE_URLS)
def test_an_http_or_relative_link_is_kept(url):
    assert safe_url(url) == url


# --------------------------------------------------------------------------- #
# The refund failure log
# --------------------------------------------------------------------------- #


def test_a_failing_refund_hook_is_logged_without_its_key_or_traceback(ctx, shop, caplog):
    request_id = steps.submit_line("return").id
    steps.take(LUNE, request_id, "accept")
    steps.take(LUNE, request_id, "receive")
    error = RuntimeError("gateway timeout after 30 s")
    with caplog.at_level(logging.ERROR), shop.refunds_failing(error), pytest.raises(AdapterError):
        steps.take(LUNE, request_id, "initiate_refund")
    [call] = shop.refunds_asked
    [record] = [r for r in caplog.records if "refund hook failed" in r.getMessage()]
    assert record.getMessage() == (
        f"mirette-returns: the shop's refund hook failed for request {request_id}: "
        "RuntimeError: gateway timeout after 30 s")
    assert record.exc_info is None and record.exc_text is None
    assert call.idempotency_key not in caplog.text and "Traceback" not in caplog.text
