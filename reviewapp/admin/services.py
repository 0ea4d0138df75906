"""Creating and changing people and teams; every rule checked here, nothing committed."""

import csv
import io
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email

from reviewapp import policy, text_limits
from reviewapp.audit.services import record
from reviewapp.auth import sessions
from reviewapp.auth.models import Role, Team, User, normalise_email
from reviewapp.auth.scope import forget_scope_cache, would_form_cycle
from reviewapp.auth.services import set_password
from reviewapp.errors import Conflict, ServiceError, claim_version
from reviewapp.extensions import db

IMPORT_COLUMNS = ["email", "name", "role", "manager_email", "team"]


def check_email(email: str, *, field_name: str = "email") -> str:
    """The normalised address, or ServiceError saying why it is not one."""
    email = normalise_email(email)
    if not email:
        raise ServiceError("Enter an email address.", field=field_name)
    try:
        # test_environment: allow the reserved .test domain used by the demo organisation.
        validate_email(email, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ServiceError(f"'{email}' is not a valid email address.", field=field_name) from exc
    return email


def parse_role(value: str) -> Role:
    """A Role from its stored value, or ServiceError listing the allowed values."""
    try:
        return Role((value or "").strip().lower())
    except ValueError as exc:
        allowed = ", ".join(r.value for r in Role)
        raise ServiceError(f"Role '{value}' is not one of {allowed}.", field="role") from exc


def _check_manager(user_id: int | None, manager: User | None) -> None:
    if manager is None:
        return
    if manager.role == Role.REP:
        raise ServiceError(f"{manager.email} is a rep and cannot manage anyone.", field="manager")
    if not manager.active:
        raise ServiceError(f"{manager.email} is deactivated.", field="manager")
    if would_form_cycle(user_id, manager.id):
        raise ServiceError(
            f"{manager.email} reports to this person; the reporting line would form a loop.",
            field="manager",
        )


def snapshot(user: User) -> dict:
    """The audited fields of a user."""
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "manager_id": user.manager_id,
        "team_id": user.team_id,
        "active": user.active,
    }


def create_user(
    actor: User | None,
    *,
    email: str,
    name: str,
    role: str | Role,
    manager: User | None = None,
    team: Team | None = None,
    password: str | None = None,
) -> User:
    """Add a user; without a password they get a set-password link."""
    email = check_email(email)
    name = text_limits.check(name, text_limits.NAME, "name", "The name")
    if not name:
        raise ServiceError("Enter a name.", field="name")
    role = role if isinstance(role, Role) else parse_role(role)
    if db.session.scalar(db.select(User.id).where(User.email == email)) is not None:
        raise ServiceError(f"A user with email {email} already exists.", field="email")
    _check_manager(None, manager)
    user = User(email=email, name=name.strip(), role=role, manager=manager, team=team)
    db.session.add(user)
    db.session.flush()
    if password:
        set_password(user, password)
    record(actor, "user.create", "user", user.id, after=snapshot(user))
    forget_scope_cache()
    return user


def update_user(
    actor: User,
    user: User,
    *,
    email: str,
    name: str,
    role: str | Role,
    manager: User | None,
    team: Team | None,
    active: bool,
    expected_version: int | None = None,
) -> User:
    """Change a user's details, reporting line, team or active flag (from a form opened at
    `expected_version`: one opened before another edit was saved loses)."""
    claim_version(user, expected_version, Conflict(
        "Someone changed this person after you opened the form (perhaps you, in another tab): "
        "reload the page to see them as they are now, or save again to put in what you entered "
        "below."))
    before = snapshot(user)
    email = check_email(email)
    name = text_limits.check(name, text_limits.NAME, "name", "The name")
    if not name:
        raise ServiceError("Enter a name.", field="name")
    role = role if isinstance(role, Role) else parse_role(role)
    clash = db.session.scalar(db.select(User.id).where(User.email == email, User.id != user.id))
    if clash is not None:
        raise ServiceError(f"A user with email {email} already exists.", field="email")
    _check_manager(user.id, manager)
    if role == Role.REP and user.reports:
        raise ServiceError(
            "This person manages others; move their reports before making them a rep.",
            field="role",
        )
    if actor.id == user.id and (not active or role != Role.HR_ADMIN):
        raise ServiceError("You cannot remove your own HR access or deactivate yourself.")
    if user.active and not active:
        _refuse_if_reviews_wait_for(user)
    elif user.role == Role.MANAGER and role != Role.MANAGER:  # only managers write reviews
        _refuse_if_reviews_wait_for(user, field="role")
    user.email, user.name, user.role = email, name.strip(), role
    if user.active and not active:
        sessions.end_all(user)
    user.manager, user.team, user.active = manager, team, active
    db.session.flush()
    after = snapshot(user)
    if after != before:
        record(actor, "user.update", "user", user.id, before=before, after=after)
    forget_scope_cache()
    return user


def _refuse_if_reviews_wait_for(user: User, field: str = "active") -> None:
    """A reviewer who leaves (or stops being a manager) with reviews still to write would leave
    them stuck (nobody else can write them): HR reassigns them first (*Reassign*)."""
    from reviewapp.cycles.models import Cycle, CycleStatus
    from reviewapp.reviews.models import Review, ReviewState

    waiting = db.session.execute(
        db.select(Cycle.name, db.func.count(Review.id)).join(Cycle, Cycle.id == Review.cycle_id)
        .where(Review.manager_id == user.id, Cycle.status == CycleStatus.LAUNCHED,
               Review.state.in_([ReviewState.NOT_STARTED, ReviewState.SELF_REVIEW,
                                 ReviewState.MANAGER_REVIEW]))
        .group_by(Cycle.name).order_by(Cycle.name)).all()
    if waiting:
        total = sum(n for _, n in waiting)
        where = ", ".join(f"{n} in {name}" for name, n in waiting)
        raise ServiceError(
            f"{user.name} still has {total} review{'s' if total != 1 else ''} to write "
            f"({where}). Reassign them to another manager on the cycle page first: nobody "
            "else can write them.", field=field)


def set_active(actor: User, user: User, active: bool) -> None:
    """Deactivate (or reactivate) a user; deactivated users cannot log in."""
    if actor.id == user.id and not active:
        raise ServiceError("You cannot deactivate yourself.")
    if user.active and not active:
        _refuse_if_reviews_wait_for(user)
    if user.active != active:
        before = snapshot(user)
        if not active:
            sessions.end_all(user)
        user.active = active
        db.session.flush()
        record(actor, "user.activate" if active else "user.deactivate", "user", user.id,
               before=before, after=snapshot(user))


def sign_out_everywhere(actor: User, user: User) -> None:
    """End every session and remember-me login of a person, on every device (audited)."""
    policy.require(policy.can_manage_users(actor))
    sessions.end_all(user)
    record(actor, "user.sign_out_everywhere", "user", user.id)


def team_name(text: str | None) -> str:
    """A team's name as it is stored and looked up: inner spaces collapsed ("Team  000" looked
    exactly like "Team 000" in every list)."""
    return " ".join((text or "").split())


def find_team(name: str) -> Team | None:
    """The team of this name, in any case and spacing (for the command line and imports)."""
    return db.session.scalar(db.select(Team).where(
        db.func.lower(Team.name) == team_name(name).lower()))


def save_team(actor: User, team: Team | None, *, name: str, manager: User | None) -> Team:
    """Create or rename a team and set its manager."""
    name = team_name(text_limits.check(name, text_limits.NAME, "name", "The team name"))
    if not name:
        raise ServiceError("Enter a team name.", field="name")
    query = db.select(Team.id).where(db.func.lower(Team.name) == name.lower())
    if team is not None:
        query = query.where(Team.id != team.id)
    if db.session.scalar(query) is not None:
        raise ServiceError(f"A team called {name} already exists.", field="name")
    if manager is not None and manager.role == Role.REP:
        raise ServiceError(f"{manager.email} is a rep and cannot manage a team.", field="manager")
    created = team is None
    if created:
        team = Team(name=name)
        db.session.add(team)
    before = None if created else {"name": team.name, "manager_id": team.manager_id}
    team.name, team.manager = name, manager
    db.session.flush()
    record(actor, "team.create" if created else "team.update", "team", team.id,
           before=before, after={"name": team.name, "manager_id": team.manager_id})
    return team


COLUMN_ORDER = {"email": 1, "name": 2, "role": 3, "manager_email": 4, "team": 5}


@dataclass
class ImportRowError:
    line: int
    column: str | None
    value: str | None
    message: str


@dataclass
class UserImportResult:
    created: list[User] = field(default_factory=list)
    errors: list[ImportRowError] = field(default_factory=list)


def import_users_csv(actor: User | None, data: bytes) -> UserImportResult:
    """Create users from CSV `email,name,role,manager_email,team`: all rows, or none.

    Managers and teams may be defined further down the same file. Teams that do not exist yet
    are created. On any error nothing is added and every bad row is reported with its line,
    in the file's order (the checks of the whole file run after those of each row: listed as
    found, a line 7 came before a line 5).
    """
    result = _read_users(actor, data)
    result.errors.sort(key=lambda e: (e.line, COLUMN_ORDER.get(e.column or "", 0)))
    return result


def _read_users(actor: User | None, data: bytes) -> UserImportResult:
    result = UserImportResult()
    errors = result.errors
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        errors.append(ImportRowError(1, None, None, "The file is not UTF-8 text."))
        return result
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if not header:
        errors.append(ImportRowError(1, None, None, "The file is empty."))
        return result
    missing = [c for c in IMPORT_COLUMNS if c not in header]
    if missing:
        errors.append(ImportRowError(
            1, None, ",".join(header), f"Missing column(s): {', '.join(missing)}. "
            f"Expected header: {','.join(IMPORT_COLUMNS)}."))
        return result
    index = {name: header.index(name) for name in IMPORT_COLUMNS}

    rows: list[tuple[int, dict[str, str]]] = []
    for line_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        cells = cells + [""] * (len(header) - len(cells))
        rows.append((line_no, {k: cells[i].strip() for k, i in index.items()}))
    if not rows:
        errors.append(ImportRowError(1, None, None, "The file has a header but no users."))
        return result

    existing = {u.email: u for u in db.session.scalars(db.select(User))}
    in_file: dict[str, int] = {}
    roles: dict[str, Role] = {}
    # Every row's every cell is checked: a bad email no longer hid the same row's bad role.
    lines_of = {normalise_email(r["email"]): line for line, r in rows}
    for line, row in rows:
        try:
            email = check_email(row["email"])
        except ServiceError as exc:
            errors.append(ImportRowError(line, "email", row["email"], exc.message))
            email = None
        if email is None:
            pass
        elif email in existing:
            errors.append(ImportRowError(line, "email", row["email"],
                                         f"A user with email {email} already exists."))
        elif email in in_file:
            errors.append(ImportRowError(line, "email", row["email"],
                                         f"Duplicate of line {in_file[email]}."))
        else:
            in_file[email] = line
        if not row["name"]:
            errors.append(ImportRowError(line, "name", "", "Name is required."))
        for column, limit in (("name", text_limits.NAME), ("team", text_limits.NAME)):
            try:
                text_limits.check(row[column], limit, column, f"The {column}")
            except ServiceError as exc:
                errors.append(ImportRowError(line, column, row[column][:60], exc.message))
        try:
            role = parse_role(row["role"])
            if email is not None:
                roles[email] = role
        except ServiceError as exc:
            errors.append(ImportRowError(line, "role", row["role"], exc.message))

    # Managers may be existing users or users further down this file.
    for line, row in rows:
        if not row["manager_email"]:
            continue
        manager_email = normalise_email(row["manager_email"])
        if manager_email == normalise_email(row["email"]):
            errors.append(ImportRowError(line, "manager_email", row["manager_email"],
                                         "A person cannot be their own manager."))
        elif manager_email in existing:
            manager = existing[manager_email]
            if manager.role == Role.REP or not manager.active:
                errors.append(ImportRowError(line, "manager_email", row["manager_email"],
                                             f"{manager_email} cannot manage anyone "
                                             "(a rep or deactivated)."))
        elif manager_email in roles:
            if roles[manager_email] == Role.REP:
                errors.append(ImportRowError(line, "manager_email", row["manager_email"],
                                             f"{manager_email} is a rep in this file."))
        elif manager_email in lines_of:  # in the file, on a line with its own error
            errors.append(ImportRowError(
                line, "manager_email", row["manager_email"],
                f"{manager_email} is on line {lines_of[manager_email]}, which has an error: "
                "fix that line first."))
        else:
            errors.append(ImportRowError(line, "manager_email", row["manager_email"],
                                         f"No user {manager_email}, here or in the file."))

    # New users' reporting lines only point at existing users or other new users; a loop can
    # only form among the new ones, so check that before writing anything.
    manager_of = {normalise_email(r["email"]): normalise_email(r["manager_email"])
                  for _, r in rows if r["manager_email"]}
    for line, row in rows:
        seen, email = set(), normalise_email(row["email"])
        while email in manager_of and email not in seen:
            seen.add(email)
            email = manager_of[email]
        if email in seen:
            errors.append(ImportRowError(line, "manager_email", row["manager_email"],
                                         "The reporting lines in this file form a loop."))
    if errors:
        return result

    teams = {team_name(t.name).lower(): t for t in db.session.scalars(db.select(Team))}
    created: dict[str, User] = {}
    for _, row in rows:
        team = None
        if row["team"]:
            name = team_name(row["team"])  # as HR's Teams page names a team
            team = teams.get(name.lower())
            if team is None:
                team = Team(name=name)
                db.session.add(team)
                teams[name.lower()] = team
        email = normalise_email(row["email"])
        user = User(email=email, name=row["name"], role=roles[email], team=team)
        db.session.add(user)
        created[email] = user
    for _, row in rows:
        if row["manager_email"]:
            manager_email = normalise_email(row["manager_email"])
            created[normalise_email(row["email"])].manager = (
                existing.get(manager_email) or created[manager_email]
            )
    db.session.flush()
    for user in created.values():
        record(actor, "user.create", "user", user.id, after=snapshot(user), reason="CSV import")
    forget_scope_cache()
    result.created = list(created.values())
    return result
