"""The in-app inbox (read/unread, only one's own) and recipient preferences."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agencies.notices import notify_users
from notifications.in_app import list_notices, mark_all_read, mark_read, unread_count
from notifications.preferences import DEFAULT_PREFERENCES, get_preferences, preferences_for, set_preferences
from tests.notifications.conftest import CONFIG, NOW, World


def fill_inbox(session_factory: sessionmaker[Session], user_id: int, count: int) -> None:
    with session_factory() as session:
        for n in range(count):
            notify_users(session, CONFIG, user_ids=[user_id], template="reminder", key=f"step:{n}", now=NOW + timedelta(
                minutes=n), context={"agency_name": "太和县市场监督管理局", "task_title": f"任务{n}",
                                     "due_date": "2026-05-08"})
        session.commit()


def test_the_inbox_lists_newest_first_and_pages(session_factory: sessionmaker[Session], world: World) -> None:
    fill_inbox(session_factory, world.liaison_id, 5)
    with session_factory() as session:
        titles = [n.subject for n in list_notices(session, world.liaison_id)]
        assert titles == [f"【即将到期】任务{n}（2026年5月8日到期）" for n in (4, 3, 2, 1, 0)]
        page = list_notices(session, world.liaison_id, limit=2, offset=2)
        assert [n.subject for n in page] == titles[2:4]
        assert list_notices(session, world.colleague_id) == []


def test_read_and_unread(session_factory: sessionmaker[Session], world: World) -> None:
    fill_inbox(session_factory, world.liaison_id, 3)
    fill_inbox(session_factory, world.colleague_id, 1)
    later = NOW + timedelta(hours=1)
    with session_factory() as session:
        newest, middle, _oldest = list_notices(session, world.liaison_id)
        [colleagues] = list_notices(session, world.colleague_id)
        assert unread_count(session, world.liaison_id) == 3
        assert mark_read(session, world.liaison_id, newest.id, later) is True
        assert mark_read(session, world.liaison_id, newest.id, later + timedelta(hours=1)) is True  # again: fine
        assert mark_read(session, world.liaison_id, colleagues.id, later) is False  # not one's own: as if absent
        assert mark_read(session, world.liaison_id, 424242, later) is False
        session.commit()
    with session_factory() as session:
        assert list_notices(session, world.liaison_id)[0].read_at == later  # the first reading counts
        assert [n.id for n in list_notices(session, world.liaison_id, unread_only=True)] == [middle.id, _oldest.id]
        assert unread_count(session, world.liaison_id) == 2
        assert mark_all_read(session, world.liaison_id, later) == 2
        session.commit()
        assert unread_count(session, world.liaison_id) == 0
        assert unread_count(session, world.colleague_id) == 1


def test_preferences_default_set_and_validate(session_factory: sessionmaker[Session], world: World) -> None:
    with session_factory() as session:
        assert get_preferences(session, world.liaison_id) == DEFAULT_PREFERENCES
        assert DEFAULT_PREFERENCES.channels == {"in_app", "email"} and not DEFAULT_PREFERENCES.digest_reminders
        chosen = set_preferences(session, world.liaison_id, channels=[], digest_reminders=True, now=NOW)
        assert chosen.channels == {"in_app"}  # in-app cannot be turned off
        assert get_preferences(session, world.liaison_id) == chosen
        set_preferences(session, world.liaison_id, channels=["email", "in_app"], digest_reminders=False, now=NOW)
        session.commit()
    with session_factory() as session:
        assert get_preferences(session, world.liaison_id).channels == {"in_app", "email"}
        both = preferences_for(session, [world.liaison_id, world.colleague_id])
        assert both == {world.liaison_id: get_preferences(session, world.liaison_id),
                        world.colleague_id: DEFAULT_PREFERENCES}
        with pytest.raises(ValueError, match=r"unknown notification channels \['sms'\]"):
            set_preferences(session, world.liaison_id, channels=["sms"], digest_reminders=False, now=NOW)
