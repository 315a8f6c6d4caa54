"""Helpers to find the seeded demo data and to act as its people in tests."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from mirette_returns_plugin import workflow
from mirette_returns_plugin.adapter import User
from mirette_returns_plugin.demo.models import Account, Product, Shipment, ShopOrder, ShopOrderLine, db


def account(email: str) -> Account:
    found = db.session.scalar(sa.select(Account).where(Account.email == email))
    assert found is not None, email
    return found


def user(email: str) -> User:
    """The plugin's view of a seeded account, as the adapter would build it."""
    found = account(email)
    return User(
        ref=str(found.id),
        name=found.name,
        email=found.email,
        locale=found.locale,
        artist_ref=str(found.artist_id) if found.artist_id else None,
        is_support=found.is_support,
    )


# The seeded accounts (see mirette_returns_plugin/demo/seed.py).
CAMILLE = "camille@buyers.example"
ALEX = "alex@buyers.example"
LUNE = "lune@artists.example"
BOIS = "boisetfil@artists.example"
VERRE = "verre@artists.example"
SUPPORT = "support@mirette.example"


def login(client: FlaskClient, email: str) -> FlaskClient:
    with client.application.app_context():
        account_id = account(email).id
    with client.session_transaction() as session:
        session["account_id"] = account_id
    return client




def order_ref(number: str) -> str:
    """The plugin's ref of a seeded order, by its number (``MIR-1004``)."""
    return str(db.session.scalar(sa.select(ShopOrder.id).where(ShopOrder.number == number)))


def line_ref(number: str, product_name: str) -> str:
    """The ref of the line of ``product_name`` in order ``number``."""
    found = db.session.scalar(
        sa.select(ShopOrderLine.id)
        .join(Shipment, ShopOrderLine.shipment_id == Shipment.id)
        .join(ShopOrder, Shipment.order_id == ShopOrder.id)
        .join(Product, ShopOrderLine.product_id == Product.id)
        .where(ShopOrder.number == number, Product.name == product_name)
    )
    assert found is not None, (number, product_name)
    return str(found)


def artist_ref(email: str) -> str:
    return str(account(email).artist_id)


def set_stage(number: str, artist_email: str, state: str) -> None:
    """Move an artist's part of an order, as the shop would."""
    shipment = db.session.scalar(
        sa.select(Shipment).join(ShopOrder).where(
            ShopOrder.number == number, Shipment.artist_id == account(artist_email).artist_id
        )
    )
    shipment.state = state
    db.session.commit()


def mug_return(app: Flask) -> int:
    """Camille's return of the speckled mug of the seeded order MIR-1004: its id."""
    with app.test_request_context():
        created = workflow.submit_return(user(CAMILLE), order_ref("MIR-1004"), workflow.ReturnForm(
            line_ref=line_ref("MIR-1004", "Speckled mug"), quantity=1, kind="return", reason_code="changed_mind"))
        request_id = created.id
        db.session.remove()
        return request_id
