"""Who is signed in to the demo shop, read once per request.

The adapter, the language selector and the layout all ask; the account is
kept in the request's WSGI environ with the id it was read for, so a switch
of account within the request reads the new one.
"""

from __future__ import annotations

from flask import has_request_context, request, session

from .models import Account, db

_ACCOUNT_KEY = "mirette_demo.account"


def current_account() -> Account | None:
    account_id = session.get("account_id") if has_request_context() else None
    if not account_id:
        return None
    # What this module stored below: the account id and the account read for it.
    cached: tuple[object, Account | None] | None = request.environ.get(_ACCOUNT_KEY)
    if cached is not None and cached[0] == account_id:
        return cached[1]
    account = db.session.get(Account, account_id)
    request.environ[_ACCOUNT_KEY] = (account_id, account)
    return account
