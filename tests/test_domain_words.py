"""Statuses, kinds and roles are string enums: the database, the pages and
plain strings see exactly the strings they saw before."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from jinja2 import Environment

from mirette_returns_plugin import access, models, workflow
from mirette_returns_plugin.demo.models import db
from mirette_returns_plugin.domain import PortableStrEnum, RequestKind, Role, Status
from tests import flows


class Colour(PortableStrEnum):
    """The fallback used on Python 3.10, checked on every version."""

    NIGHT_BLUE = "night_blue"


@pytest.mark.parametrize("member", [*Status, *RequestKind, *Role, Colour.NIGHT_BLUE], ids=str)
def test_a_member_is_its_string(member):
    value = member.value
    assert member == value and value == member
    assert str(member) == value and f"{member}" == value and "%s" % member == value  # noqa: UP031 -- %-formatting is one of the ways a member is printed
    assert json.dumps(member) == json.dumps(value)
    assert {value: 1}[member] == 1 and {member: 1}[value] == 1
    assert Environment().from_string("{{ s }}|{{ s|upper }}").render(s=member) == f"{value}|{value.upper()}"


def test_the_old_names_still_lead_to_the_same_words():
    assert workflow.Status is Status and models.RequestKind is RequestKind and access.Role is Role
    assert RequestKind.ALL == ("return", "exchange", "cancellation")


def test_the_database_holds_plain_strings(ctx):
    request = flows.submit_line(RequestKind.EXCHANGE)
    flows.take(flows.LUNE, request.id, "accept")
    row = db.session.execute(sa.text("select kind, status from mirette_returns_request where id = :id"),
                             {"id": request.id}).one()
    assert tuple(row) == ("exchange", "accepted") and type(row[0]) is str
    actor = db.session.execute(
        sa.text("select actor_role from mirette_returns_history where request_id = :id order by id"),
        {"id": request.id}).scalars().all()
    assert actor == ["buyer", "artist"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(models.Request)
                             .where(models.Request.status == "accepted")) == 1
