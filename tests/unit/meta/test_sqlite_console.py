"""The console's tables on SQLite: sessions by hash (gone with their user), share pages, and the counting
of failed tries (a window, a lockout at the limit, a fresh window after it)."""

from __future__ import annotations

from satchel.meta.sqlite import SqliteStore
from satchel.meta.sqlite_console import MAX_SESSIONS_PER_USER
from satchel.meta.store import StoredSession, StoredShare
from tests.unit.meta.conftest import World


def test_sessions_are_found_by_hash_touched_and_deleted(store: SqliteStore, world: World) -> None:
    store.create_session(StoredSession("h1", world.user.id, 10.0, 10.0, 100.0))
    store.create_session(StoredSession("h2", world.user.id, 10.0, 10.0, 20.0))
    store.touch_session("h1", 15.0)
    store.touch_session("h1", 12.0)  # never backwards
    assert store.get_session("h1") == StoredSession("h1", world.user.id, 10.0, 15.0, 100.0)
    store.delete_sessions(expired_at=50.0)
    assert store.get_session("h2") is None and store.get_session("h1") is not None
    store.delete_sessions("h1")
    assert store.get_session("h1") is None
    store.create_session(StoredSession("h4", world.user.id, 10.0, 10.0, 100.0))
    store.delete_sessions(user_id=world.user.id)
    assert store.get_session("h4") is None


def test_a_users_sessions_go_with_it(store: SqliteStore, world: World) -> None:
    user = store.create_user(world.account.id, "leaving", world.user.role)
    store.create_session(StoredSession("h3", user.id, 1.0, 1.0, 9.0))
    store.delete_user(user.id)
    assert store.get_session("h3") is None


def test_share_pages(store: SqliteStore) -> None:
    share = StoredShare("idhash", "link-1", None, 5.0, "u")
    assert store.create_share(share, 2)
    assert store.create_share(StoredShare("idhash2", "link-1", None, 5.0, "u"), 2)
    assert not store.create_share(StoredShare("idhash3", "link-1", None, 5.0, "u"), 2)
    assert store.get_share("idhash3") is None
    assert store.get_share("idhash") == share and store.get_share("other") is None


def test_tries_are_reserved_up_to_the_limit_then_refused(store: SqliteStore) -> None:
    def reserve(subject: str, at: float, limit: int = 3) -> float | None:
        return store.reserve_attempt([(subject, limit)], at, 60.0, 30.0)

    assert store.throttled_until("user:a") is None
    assert reserve("user:a", 100.0) is None
    assert reserve("user:a", 110.0) is None
    assert reserve("user:a", 120.0) is None  # the limit-th try is still checked...
    assert reserve("user:a", 121.0) == 150.0  # ...and every later one refused, uncounted
    assert store.throttled_until("user:a") == 150.0
    assert store.throttled_until("user:b") is None
    # After the lockout a new window starts: two more tries do not lock again.
    assert reserve("user:a", 151.0) is None
    assert reserve("user:a", 152.0) is None
    assert store.throttled_until("user:a") is None
    # Tries spread beyond the window never add up to the limit.
    for at in (300.0, 400.0, 500.0, 600.0):
        assert reserve("user:c", at) is None
    store.clear_failures("user:a")
    assert store.throttled_until("user:a") is None


def test_a_locked_subject_refuses_the_pair_and_a_right_try_is_released(store: SqliteStore) -> None:
    assert store.reserve_attempt([("user:x", 1)], 100.0, 60.0, 30.0) is None  # locks user:x
    assert store.reserve_attempt([("address:1", 5), ("user:x", 1)], 101.0, 60.0, 30.0) == 130.0
    assert store.throttled_until("address:1") is None  # nothing reserved for the address either
    for at in (102.0, 103.0):
        assert store.reserve_attempt([("address:1", 2)], at, 60.0, 30.0) is None
    assert store.throttled_until("address:1") == 133.0
    store.release_attempt("address:1")
    assert store.throttled_until("address:1") is None


def test_a_user_holds_a_bounded_number_of_sessions(store: SqliteStore, world: World) -> None:
    for n in range(MAX_SESSIONS_PER_USER + 5):
        store.create_session(StoredSession(f"s{n:03d}", world.user.id, float(n), float(n), 1e9))
    assert store.get_session("s000") is None and store.get_session("s004") is None
    assert store.get_session("s005") is not None and store.get_session(f"s{MAX_SESSIONS_PER_USER + 4:03d}")


def test_finished_windows_are_pruned(store: SqliteStore) -> None:
    for n in range(50):
        store.reserve_attempt([(f"user:guess{n}", 5)], 100.0, 60.0, 30.0)
    store.reserve_attempt([("user:late", 5)], 1000.0, 60.0, 30.0)
    count = store._db.conn().execute("SELECT COUNT(*) FROM console_throttle").fetchone()[0]
    assert count == 1
