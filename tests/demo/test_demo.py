"""The demo organisation loads deterministically and idempotently."""

from reviewapp.auth.models import Role, Team, User


def snapshot(db):
    return sorted(
        (u.email, u.role.value, u.manager.email if u.manager else None,
         u.team.name if u.team else None)
        for u in db.session.scalars(db.select(User))
    )


def test_demo_load_twice_changes_nothing(runner, db):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "Demo logins" in first.output and "hr@demo.reviewapp.test" in first.output
    state = snapshot(db)
    roles = [r for _, r, _, _ in state]
    assert roles.count("hr_admin") == 1 and roles.count("manager") == 3
    assert roles.count("rep") == 24
    assert db.session.scalar(db.select(db.func.count()).select_from(Team)) == 3
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    db.session.expire_all()
    assert snapshot(db) == state
    manager = db.session.scalar(db.select(User).where(User.role == Role.MANAGER))
    assert len(manager.reports) == 8
