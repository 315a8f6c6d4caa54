"""Headers: a strict Content-Security-Policy that the pages really work under,
safe cookies, and no open redirect.

- The demo's policy has no ``'unsafe-inline'`` nor ``'unsafe-eval'``, and is
  sent with every answer of the plugin (pages, fragments, errors, redirects).
- No template of the plugin or the demo carries an inline script, an inline
  style or an ``on*=`` handler (the templates are scanned, every one), and the
  plugin's scripts never evaluate strings.
- In Chromium, under that very policy, the pages load and htmx swaps a form
  with no policy violation reported.
- The session cookie is ``HttpOnly`` and ``SameSite=Lax``.
- Every ``next``-style parameter refuses to send the visitor off the site;
  the plugin reads none, and every redirect it makes stays on the site.
"""

from __future__ import annotations

import ast
import re
import threading
from pathlib import Path

import pytest

from mirette_returns_plugin.demo.forms import safe_next
from mirette_returns_plugin.demo.security import CONTENT_SECURITY_POLICY, EMAIL_BODY_POLICY
from mirette_returns_plugin.htmx import HTMX_CONFIG
from tests.hardening import CountingStream, account_id, build_world, served, session_cookie, visitor
from tests.pagekit import HTMX
from tests.shop import ALEX, CAMILLE, LUNE, SUPPORT, artist_ref, line_ref, order_ref

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mirette_returns_plugin"
#: Page templates: the plugin's and the demo shop's. Emails are not pages:
#: mail clients need inline styles, and they are never served as a page.
PAGE_TEMPLATES = sorted(
    path for folder in (ROOT / "templates" / "mirette_returns", PACKAGE / "demo" / "templates")
    for path in folder.rglob("*.html") if "email" not in path.relative_to(folder).parts[:1]
    and path.parent.name != "email"
)
SCRIPTS = sorted((ROOT / "static" / "mirette_returns").glob("mirette-returns*.js")) + sorted(
    (PACKAGE / "demo" / "static").rglob("*.js"))


def directives(policy: str) -> dict[str, list[str]]:
    found = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            found[words[0].lower()] = words[1:]
    return found


# --------------------------------------------------------------------------- #
# The policy
# --------------------------------------------------------------------------- #


def test_the_demo_policy_is_strict():
    policy = directives(CONTENT_SECURITY_POLICY)
    for name, sources in policy.items():
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources, name
        assert "*" not in sources and "http:" not in sources and "https:" not in sources, name
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"]
    # The one other policy is for an email's HTML in a sandboxed frame: it
    # runs nothing at all (no script source, sandboxed without scripts).
    email = directives(EMAIL_BODY_POLICY)
    assert email["default-src"] == ["'none'"] and "sandbox" in email and email["sandbox"] == []
    assert "script-src" not in email


def test_every_kind_of_answer_carries_the_policy(app):
    world = build_world(app, fresh=False)
    camille, lune, alex = visitor(app, CAMILLE), visitor(app, LUNE), visitor(app, ALEX)
    with app.app_context():
        mug = f"/returns/orders/{order_ref('MIR-1004')}/lines/{line_ref('MIR-1004', 'Speckled mug')}"
    answers = {
        "page": camille.get(f"/returns/requests/{world.ret}"),
        "fragment": camille.get(f"{mug}/return", headers=HTMX),
        "poll": camille.get(f"/returns/requests/{world.ret}/news?after=0", headers=HTMX),
        "no news": camille.get(f"/returns/requests/{world.ret}/news?after={world.ret_version}"),
        "redirect": camille.post(f"/returns/requests/{world.ret}/messages", data={"body": "Hi"}),
        "422": camille.post(f"/returns/requests/{world.ret}/messages", data={"body": ""}),
        "403": lune.post(f"/returns/requests/{world.ret}/actions/withdraw", data={"confirm": "1"}),
        "404": alex.get(f"/returns/requests/{world.ret}"),
        "400": camille.post(f"/returns/requests/{world.ret}/messages", data={"body": "\x00"}),
        "413": camille.post(f"/returns/requests/{world.ret}/messages", input_stream=CountingStream(200 * 2**20),
                            content_type="multipart/form-data; boundary=x"),
        "inbox": lune.get("/returns/artist/inbox"),
        "static": camille.get("/returns/static/mirette_returns/mirette-returns.js"),
    }
    expected = {"page": 200, "fragment": 200, "poll": 200, "no news": 204, "redirect": 303, "422": 422,
                "403": 403, "404": 404, "400": 400, "413": 413, "inbox": 200, "static": 200}
    for name, response in answers.items():
        assert response.status_code == expected[name], (name, response.status_code)
        assert response.headers.get("Content-Security-Policy") == CONTENT_SECURITY_POLICY, name
        assert response.headers.get("X-Content-Type-Options") == "nosniff", name
        response.close()
    # A photo is served under a policy of its own, stricter still.
    photo = camille.get(f"/returns/photos/{world.photo}")
    assert directives(photo.headers["Content-Security-Policy"]) == {"default-src": ["'none'"], "sandbox": []}


# --------------------------------------------------------------------------- #
# The templates and scripts themselves
# --------------------------------------------------------------------------- #


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>(?!\s*</script>)", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"""[\s"'{}]style\s*=""", re.IGNORECASE)
HANDLER = re.compile(r"""[\s"'{}]on[a-z]+\s*=""", re.IGNORECASE)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def test_the_template_scan_finds_every_page_template():
    names = {path.name for path in PAGE_TEMPLATES}
    assert {"request_detail.html", "order_requests.html", "layout.html", "base.html"} <= names
    assert not any("email" in path.parts[-2:-1] for path in PAGE_TEMPLATES)


@pytest.mark.parametrize("template", PAGE_TEMPLATES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_inline_code_in_templates(template: Path):
    source = template.read_text(encoding="utf-8")
    # Jinja comments may mention anything.
    source = re.sub(r"\{#.*?#\}", "", source, flags=re.DOTALL)
    assert not INLINE_SCRIPT.search(source), "inline <script> with content"
    assert not STYLE_ELEMENT.search(source), "<style> element"
    assert not STYLE_ATTRIBUTE.search(source), "style= attribute"
    assert not HANDLER.search(source), "on*= event handler attribute"
    assert not JS_URL.search(source), "javascript: URL"


def test_the_scan_would_catch_inline_code():
    for bad in ('<script>alert(1)</script>', '<p style="color:red">', '<a href="#" onclick="go()">',
                '<div {{ x }} onmouseover="y">', "<style>p{}</style>", '<a href="javascript:go()">'):
        assert any(pattern.search(bad) for pattern in (INLINE_SCRIPT, STYLE_ELEMENT, STYLE_ATTRIBUTE, HANDLER,
                                                        JS_URL)), bad
    for good in ('<script src="/x.js" defer></script>', '<p class="style">', '<button data-on="1">'):
        assert not any(pattern.search(good) for pattern in (INLINE_SCRIPT, STYLE_ELEMENT, STYLE_ATTRIBUTE,
                                                             HANDLER, JS_URL)), good


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_scripts_evaluate_no_strings(script: Path):
    source = script.read_text(encoding="utf-8")
    assert not re.search(r"\beval\s*\(|new\s+Function\s*\(|set(Timeout|Interval)\s*\(\s*['\"]", source)
    assert not re.search(r"setAttribute\(\s*['\"](style|on[a-z]+)['\"]", source)


def test_htmx_is_configured_for_the_policy():
    assert HTMX_CONFIG["allowEval"] is False
    assert HTMX_CONFIG["includeIndicatorStyles"] is False and HTMX_CONFIG["includeIndicatorCSS"] is False


# --------------------------------------------------------------------------- #
# Cookies
# --------------------------------------------------------------------------- #


def test_the_session_cookie_is_httponly_and_samesite_lax(app):
    client = visitor(app, None)
    token_page = client.get("/switch").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', token_page)
    response = client.post("/switch", data={"account_id": str(account_id(app, CAMILLE)),
                                            "csrf_token": token.group(1) if token else ""})
    assert response.status_code == 303
    cookies = [value for name, value in response.headers.items() if name.lower() == "set-cookie"]
    session = next(value for value in cookies if value.startswith(f"{app.config['SESSION_COOKIE_NAME']}="))
    attributes = {part.strip().split("=", 1)[0].lower(): part.strip() for part in session.split(";")[1:]}
    assert "httponly" in attributes, session
    assert attributes.get("samesite") == "SameSite=Lax", session
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


# --------------------------------------------------------------------------- #
# Redirects
# --------------------------------------------------------------------------- #

OFF_SITE = [
    "//evil.example", "///evil.example", "////evil.example", "/\\evil.example", "\\\\evil.example", "\\/evil.example",
    "https://evil.example", "http:evil.example", "HTTPS://evil.example", "javascript:alert(1)",
    "data:text/html,hi", "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", " //evil.example",
    "\x00//evil.example", "\t//evil.example", "evil.example", "//", "", "  ", "mailto:x@evil.example",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_safe_next_refuses_anything_off_site(target: str):
    assert safe_next(target, "/home") == "/home"


def test_safe_next_keeps_paths_on_the_site():
    for target in ("/orders", "/returns/requests/12?x=1#mr-timeline", "/%2F%2Fevil.example"):
        assert safe_next(target, "/home") == target


def test_the_language_switch_never_redirects_off_site(app):
    client = visitor(app, CAMILLE)
    for target in OFF_SITE:
        response = client.post("/language", data={"locale": "fr", "next": target})
        assert response.status_code == 303
        assert response.headers["Location"] == "/", (target, response.headers["Location"])
    kept = client.post("/language", data={"locale": "en", "next": "/orders?x=1"})
    assert kept.headers["Location"] == "/orders?x=1"


def test_the_plugin_reads_no_redirect_target_from_the_request():
    """Every redirect the plugin makes is built with ``url_for``, never from input."""
    for path in [*sorted((PACKAGE / "views").glob("*.py")), PACKAGE / "htmx.py", PACKAGE / "rendering.py"]:
        source = path.read_text(encoding="utf-8")
        redirect_target = r"""(args|form|values)\.get\(\s*["'](next|return_to|redirect|url|back)["']"""
        assert not re.search(redirect_target, source), path
        assert "referrer" not in source and "Referer" not in source, path
        tree = ast.parse(source)
        # Small helpers that only ever return ``url_for(...)`` count as url_for.
        builders = {"url_for"} | {
            function.name for function in ast.walk(tree) if isinstance(function, ast.FunctionDef)
            and all(isinstance(r.value, ast.Call) and getattr(r.value.func, "id", "") == "url_for"
                    for r in ast.walk(function) if isinstance(r, ast.Return))
            and any(isinstance(r, ast.Return) for r in ast.walk(function))
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                    "see_other", "set_redirect", "set_location"):
                argument = node.args[0] if node.args else None
                assert (isinstance(argument, ast.Call) and getattr(argument.func, "id", "") in builders) or (
                    isinstance(argument, ast.Name) and argument.id == "url"), (path, ast.unparse(node))


def test_plugin_redirects_stay_on_the_site_whatever_is_sent(app):
    world = build_world(app, fresh=False)
    camille = visitor(app, CAMILLE)
    with app.app_context():
        lune = artist_ref(LUNE)
        mug = f"/returns/orders/{order_ref('MIR-1004')}/lines/{line_ref('MIR-1004', 'Speckled mug')}"
    hostile = {"next": "//evil.example", "return_to": "https://evil.example", "redirect": "//evil.example"}
    headers = {"Referer": "https://evil.example/", "HX-Current-URL": "https://evil.example/"}
    answers = [
        camille.post(f"/returns/requests/{world.ret}/messages", data={"body": "Hi", **hostile}, headers=headers),
        camille.post(f"{mug}/return", data={"quantity": "1", "kind": "return", "reason_code": "changed_mind",
                                            **hostile}, headers=headers),
        camille.post(f"/returns/orders/{world.pending_order}/cancel", data={"artist_ref": lune, "message": "x",
                                                                             **hostile}, headers=headers),
        visitor(app, LUNE).post(f"/returns/requests/{world.ret}/actions/accept",
                                data={"note": "Send it back", "version": "3", **hostile}, headers=headers),
        camille.get(f"{mug}?next=//evil.example", headers=headers),
        camille.get(f"/returns/requests/{world.ret}/news?next=//evil.example", headers=headers),
        visitor(app, SUPPORT).get("/returns/support/requests?next=//evil.example", headers=headers),
    ]
    redirects = [response for response in answers if 300 <= response.status_code < 400]
    assert len(redirects) >= 4
    for response in answers:
        for header in ("Location", "HX-Redirect", "HX-Location"):
            value = response.headers.get(header)
            if value is not None:
                assert value.startswith("/") and not value.startswith("//"), (header, value)


# --------------------------------------------------------------------------- #
# In a real browser, under the policy
# --------------------------------------------------------------------------- #

CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium")
def test_pages_work_in_chromium_under_the_policy(app):
    world = build_world(app, fresh=False)
    # Playwright's sync API refuses to start where an event loop already runs
    # (the browser tests' session keeps one in this thread): use a thread of
    # its own, and hand its failure back here.
    failures: list[BaseException] = []

    def run() -> None:
        try:
            _browse_under_the_policy(app, world)
        except BaseException as error:  # noqa: BLE001 - re-raised below
            failures.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    if failures:
        raise failures[0]


def _browse_under_the_policy(app, world) -> None:
    from playwright import sync_api

    with served(app) as base, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            context = browser.new_context(locale="en-GB")
            context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": session_cookie(app, CAMILLE),
                                  "url": base}])
            # Every violation the browser sees, from the first byte of each page.
            context.add_init_script(
                "window.__violations = [];"
                "document.addEventListener('securitypolicyviolation', function (e) {"
                "  window.__violations.push(e.violatedDirective + ' ' + e.blockedURI); });")
            page = context.new_page()
            console = []
            page.on("console", lambda message: console.append(message.text))
            page.goto(f"{base}/returns/requests/{world.ret}")
            assert page.evaluate("typeof htmx") == "object", "htmx runs under the policy"
            page.evaluate("window.__same_page = true")
            page.fill("#mr-reply-body", "Sent by htmx under a strict policy")
            page.click("#mr-reply button[type=submit]")
            page.get_by_text("Sent by htmx under a strict policy").first.wait_for()
            assert page.evaluate("window.__same_page === true"), "the form was swapped in place, not reloaded"
            assert page.evaluate("window.__violations") == []
            page.goto(f"{base}/returns/orders/{world.order}")
            page.locator(f"#mr-line-{world.line} a.mr-button").first.click()
            page.locator(f"#mr-line-{world.line}-form form").wait_for()
            assert page.evaluate("window.__violations") == []
            page.goto(f"{base}/orders")
            assert page.evaluate("window.__violations") == []
            assert not [text for text in console if "Content Security Policy" in text], console
        finally:
            browser.close()
