"""The shop's own sign-in: a signed cookie holding the member's id.

No Flask-Login and no server-side session: the login form checks the
password and sets ``corner_member``, signed with the app's secret key.
"""

from __future__ import annotations

import uuid

from flask import Response, current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .models import Member, db

COOKIE = "corner_member"
#: A sign-in lasts thirty days.
MAX_AGE = 30 * 24 * 3600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="corner-member")


def cookie_value(member_id: uuid.UUID) -> str:
    """The signed cookie value for a member (what the login form sets)."""
    return _serializer().dumps(str(member_id))


def signed_in_member() -> Member | None:
    """The member of this request, read once from the cookie."""
    if "corner_member" not in g:
        g.corner_member = _member_from_cookie()
    return g.corner_member


def _member_from_cookie() -> Member | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        member_id = uuid.UUID(_serializer().loads(raw, max_age=MAX_AGE))
    except (BadSignature, ValueError, TypeError):
        return None
    return db.session.get(Member, member_id)


def sign_in(response: Response, member: Member) -> Response:
    response.set_cookie(COOKIE, cookie_value(member.id), max_age=MAX_AGE, httponly=True, samesite="Lax",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


def sign_out(response: Response) -> Response:
    response.delete_cookie(COOKIE)
    return response
