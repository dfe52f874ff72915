import threading

import pytest
from sqlalchemy import create_engine, text

from survey.audit import (
    read_head,
    record_event,
    seal_pending_events,
    sealed_head,
    verify_chain,
)
from survey.extensions import db
from survey.models import AuditEvent


def seal(app) -> int:
    return seal_pending_events(db.session, key=app.config["AUDIT_KEY"],
                               instance_path=app.config["INSTANCE_PATH"]).sealed


def test_an_untouched_chain_verifies_once_sealed(app) -> None:
    with app.app_context():
        for i in range(5):
            record_event(db.session, "test.event", actor="cli", summary={"i": i, "note": "é"})
        db.session.commit()
        before = verify_chain(db.session)
        assert (before.events, before.pending) == (0, 5)
        assert seal(app) == 5
        result = verify_chain(db.session, head=read_head(app.config["INSTANCE_PATH"]))
        assert result.ok and result.events == 5 and result.pending == 0 and result.anchored
        assert result.head == sealed_head(db.session)
        assert read_head(app.config["INSTANCE_PATH"]).hash == result.head.hash


def test_a_row_changed_by_hand_is_named(app) -> None:
    with app.app_context():
        ids = [record_event(db.session, "test.event", actor="cli", summary={"i": i})
               for i in range(4)]
        db.session.commit()
        seal(app)
        db.session.execute(
            text("UPDATE audit_event SET summary = :s WHERE id = :id"),
            {"s": '{"i": 99}', "id": ids[2]},
        )
        db.session.commit()
        result = verify_chain(db.session)
    assert not result.ok
    assert result.first_broken_id == ids[2]
    assert "content changed" in result.reason


def test_a_deleted_row_breaks_the_link_after_it(app) -> None:
    with app.app_context():
        ids = [record_event(db.session, "test.event", actor="cli") for _ in range(4)]
        db.session.commit()
        seal(app)
        db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[1]})
        db.session.commit()
        result = verify_chain(db.session)
    assert result.first_broken_id == ids[2]
    assert "does not follow" in result.reason


def test_another_key_does_not_verify(app) -> None:
    with app.app_context():
        record_event(db.session, "test.event", actor="cli")
        db.session.commit()
        seal(app)
        assert verify_chain(db.session).ok
        assert not verify_chain(db.session, key="another-key-" + "x" * 40).ok


def test_an_event_committed_after_a_later_one_was_sealed_is_chained_next(app) -> None:
    """Ids are given at insert, commits land in any order: the chain follows sealing order."""
    with app.app_context():
        first = record_event(db.session, "test.first", actor="cli")
        db.session.flush()
        second_id = []

        def other_request() -> None:
            with app.app_context():
                second_id.append(record_event(db.session, "test.second", actor="cli"))
                db.session.commit()
                seal(app)

        if db.engine.dialect.name == "postgresql":
            worker = threading.Thread(target=other_request)
            worker.start()
            worker.join()
            db.session.commit()
            assert second_id[0] > first
        else:  # one writer at a time: commit first, the order is then the ids'
            db.session.commit()
            other_request()
        seal(app)
        order = db.session.execute(text("SELECT action FROM audit_event ORDER BY seq")).scalars()
        assert verify_chain(db.session).ok
        assert sorted(order) == ["test.first", "test.second"]


def test_appends_take_no_lock(app, database_url) -> None:
    """An append waits for no other: a respondent's request never queues behind another's."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time whatever the trail does")
    with app.app_context():
        record_event(db.session, "test.open", actor="cli")  # a transaction left open
        db.session.flush()
        engine = create_engine(database_url)
        try:
            with engine.begin() as other:
                other.execute(text("SET LOCAL lock_timeout = '5s'"))
                record_event(other, "test.concurrent", actor="cli")
        finally:
            engine.dispose()
        db.session.commit()
        assert db.session.query(AuditEvent).count() == 2


def test_the_health_check_sees_late_sealing_and_a_truncated_trail(app, client) -> None:
    from datetime import timedelta

    from survey.models import utcnow

    with app.app_context():
        record_event(db.session, "test.event", actor="cli")
        record_event(db.session, "test.event", actor="cli")
        db.session.commit()
        assert client.get("/healthz").json["checks"]["audit_trail"]["ok"]
        seal(app)
        db.session.execute(text("DELETE FROM audit_event WHERE seq = 2"))
        db.session.commit()
        check = client.get("/healthz").json["checks"]["audit_trail"]
        assert not check["ok"] and "recorded head" in check["error"]
        record_event(db.session, "test.old", actor="cli", at=utcnow() - timedelta(minutes=5))
        db.session.commit()
        check = client.get("/healthz").json["checks"]["audit_trail"]
        assert not check["ok"] and check["oldest_unsealed_seconds"] > 120
