"""Factories that return saved objects; each takes keyword overrides."""

import itertools
from types import SimpleNamespace

from werkzeug.security import generate_password_hash

from reviewapp.auth.models import Role, Team, User
from reviewapp.extensions import db

TEST_PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)
_hash_cache: dict[str, str] = {}


def password_hash(password: str = TEST_PASSWORD) -> str:
    """scrypt is slow on purpose; hash each test password once per run."""
    if password not in _hash_cache:
        _hash_cache[password] = generate_password_hash(password, method="scrypt")
    return _hash_cache[password]


def session_of(app, user):
    """A browser of its own: a test client logged in as the user."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


def _save(obj, commit: bool):
    db.session.add(obj)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return obj


def create_team(name: str | None = None, manager: User | None = None, *,
                commit: bool = True) -> Team:
    return _save(Team(name=name or f"Team {next(_counter)}", manager=manager), commit)


def create_user(
    role: Role | str = Role.REP,
    *,
    email: str | None = None,
    name: str | None = None,
    manager: User | None = None,
    team: Team | None = None,
    active: bool = True,
    password: str | None = TEST_PASSWORD,
    commit: bool = True,
) -> User:
    n = next(_counter)
    role = Role(role)
    user = User(
        email=(email or f"{role.value}{n}@example.test").lower(),
        name=name or f"{role.label} {n}",
        role=role,
        manager=manager,
        team=team,
        active=active,
        password_hash=password_hash(password) if password else None,
    )
    return _save(user, commit)


def build_org() -> SimpleNamespace:
    """HR; manager `boss` over manager `lead`; reps under each; a rep in another branch."""
    hr = create_user(Role.HR_ADMIN, name="Hilda HR", commit=False)
    boss = create_user(Role.MANAGER, name="Bea Boss", commit=False)
    lead = create_user(Role.MANAGER, name="Leo Lead", manager=boss, commit=False)
    other_manager = create_user(Role.MANAGER, name="Otto Other", commit=False)
    team = create_team("Alpha", manager=lead, commit=False)
    other_team = create_team("Omega", manager=other_manager, commit=False)
    rep = create_user(Role.REP, name="Rita Rep", manager=lead, team=team, commit=False)
    rep2 = create_user(Role.REP, name="Ravi Rep", manager=lead, team=team, commit=False)
    boss_rep = create_user(Role.REP, name="Bob Direct", manager=boss, team=team, commit=False)
    outsider = create_user(Role.REP, name="Olga Outsider", manager=other_manager,
                           team=other_team, commit=False)
    db.session.commit()  # one transaction for the whole organisation
    return SimpleNamespace(hr=hr, boss=boss, lead=lead, other_manager=other_manager, team=team,
                           other_team=other_team, rep=rep, rep2=rep2, boss_rep=boss_rep,
                           outsider=outsider)
