from sqlalchemy import text

from survey.audit import record_event, verify_chain
from survey.extensions import db


def test_an_untouched_chain_verifies(app) -> None:
    with app.app_context():
        for i in range(5):
            record_event(db.session, "test.event", actor="cli", summary={"i": i, "note": "é"})
        db.session.commit()
        result = verify_chain(db.session)
    assert result.ok and result.events == 5


def test_a_row_changed_by_hand_is_named(app) -> None:
    with app.app_context():
        ids = [record_event(db.session, "test.event", actor="cli", summary={"i": i})
               for i in range(4)]
        db.session.commit()
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
        db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[1]})
        db.session.commit()
        result = verify_chain(db.session)
    assert result.first_broken_id == ids[2]
    assert "does not follow" in result.reason
