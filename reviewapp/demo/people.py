"""The demo organisation: one HR admin, three managers, 24 reps in three teams."""

from functools import lru_cache

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from reviewapp.admin.services import create_user
from reviewapp.auth.models import Role, Team, User
from reviewapp.extensions import db

DEMO_PASSWORD = "reviewapp-demo"
DOMAIN = "demo.reviewapp.test"

HR = ("Hannah Reed", "hr")
TEAMS = [
    ("North", ("Marcus Cole", "marcus.cole"),
     ["Priya Shah", "Tom Becker", "Ana Lima", "Jon Park", "Lena Vogel", "Omar Haddad",
      "Grace Liu", "Pedro Alves"]),
    ("South", ("Sofia Marin", "sofia.marin"),
     ["Ben Carter", "Chloe Dubois", "Dev Patel", "Emma Novak", "Felix Wright", "Hana Sato",
      "Ivan Petrov", "Julia Costa"]),
    ("West", ("Kai Jensen", "kai.jensen"),
     ["Liam O'Neil", "Maya Singh", "Noah Fischer", "Olivia Brown", "Rafael Ortiz", "Sara Kim",
      "Theo Martin", "Uma Rao"]),
]


def email_for(name: str) -> str:
    """The demo email for a person's name."""
    local = name.lower().replace("'", "").replace(" ", ".")
    return f"{local}@{DOMAIN}"


@lru_cache(maxsize=1)
def _demo_hash() -> str:
    # scrypt is slow on purpose; the demo accounts share one password, so hash it once.
    return generate_password_hash(DEMO_PASSWORD, method="scrypt")


def _ensure_user(name: str, email: str, role: Role, manager: User | None, team: Team | None):
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = create_user(None, email=email, name=name, role=role, manager=manager, team=team)
        user.password_hash = _demo_hash()
    return user


def load_people() -> dict:
    """Create the demo people if missing; return a summary with the demo logins."""
    hr = _ensure_user(HR[0], f"{HR[1]}@{DOMAIN}", Role.HR_ADMIN, None, None)
    logins = [("hr_admin", hr.email)]
    reps = 0
    for team_name, (manager_name, manager_local), rep_names in TEAMS:
        team = db.session.scalar(sa.select(Team).where(Team.name == team_name))
        if team is None:
            team = Team(name=team_name)
            db.session.add(team)
            db.session.flush()
        manager = _ensure_user(manager_name, f"{manager_local}@{DOMAIN}", Role.MANAGER, None,
                               team)
        team.manager = manager
        logins.append(("manager", manager.email))
        for i, rep_name in enumerate(rep_names):
            rep = _ensure_user(rep_name, email_for(rep_name), Role.REP, manager, team)
            if i == 0:
                logins.append(("rep", rep.email))
            reps += 1
    db.session.flush()
    return {"people": f"1 HR admin, {len(TEAMS)} managers, {reps} reps", "_logins": logins}
