"""Who may do what: the policy function alone."""

from __future__ import annotations

import pytest

from podium.auth.models import Principal
from podium.auth.policy import Action, allowed, authorize, within
from podium.errors import Forbidden, NotFound

SERVICE = Principal("example.org", "service", is_service=True)
USER = Principal("example.org", "alice", is_service=False)


@pytest.mark.parametrize("action", list(Action))
def test_the_tenant_backend_may_do_everything(action: Action) -> None:
    assert allowed(SERVICE, action)


def test_an_end_user_may_only_read() -> None:
    assert allowed(USER, Action.READ_CLASS)
    assert not allowed(USER, Action.CREATE_CLASS)
    assert not allowed(USER, Action.UPDATE_CLASS)
    with pytest.raises(Forbidden):
        authorize(USER, Action.UPDATE_CLASS)


def test_acting_in_another_audience_is_forbidden() -> None:
    with pytest.raises(Forbidden) as info:
        authorize(SERVICE, Action.CREATE_CLASS, "other.org")
    assert info.value.field == "audience"
    authorize(SERVICE, Action.CREATE_CLASS, "example.org")


def test_another_audience_in_a_path_is_not_found() -> None:
    with pytest.raises(NotFound):
        within(SERVICE, "other.org")
    assert within(SERVICE, "example.org") is SERVICE
