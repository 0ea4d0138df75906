"""Demo peer feedback and customer voice in the latest demo cycle (after the reviews step).

- The cycle asks up to five peers per review, shows answers from three, and closes peer input
  on the manager review deadline.
- Grace Liu (manager review): four colleagues answered, so Marcus Cole sees their view beside
  each competency while he writes her review.
- Lena Vogel (calibration): three peers rate her collaboration well below Marcus's rating, so
  the calibration page lists it under "peer view differs".
- Tom Becker (shared): he reads his peers' view with his review.
- Hana Sato (manager review): two of four answered so far: "not enough responses".
- Pedro Alves (self-assessment) nominated three colleagues; Marcus has to approve them.
- Priya Shah (the demo rep) has a request to answer on Omar Haddad's review.
- A CSAT metric (customer satisfaction, 1–5, per rep and quarter) is the customer voice shown
  beside "Customer satisfaction".

Deterministic for a given date; loading twice changes nothing.
"""

from __future__ import annotations

import io
import random
from datetime import date

import pandas as pd
import sqlalchemy as sa

from reviewapp.auth.models import User
from reviewapp.cycles.models import Cycle
from reviewapp.demo.people import DOMAIN, TEAMS, email_for
from reviewapp.demo.reviews import cycle_name, demo_quarter
from reviewapp.extensions import db
from reviewapp.metrics.catalogue import add_metric, metric_by_key
from reviewapp.metrics.importer import apply_import, prepare_import
from reviewapp.metrics.periods import Period
from reviewapp.peers import evidence, services
from reviewapp.peers.models import PeerRequest, PeerRequestState
from reviewapp.reviews.models import Review, ReviewState

CSAT = "csat"
EXAMPLES = {
    "Relationships": ["Kept {a} on side through a pricing change by calling their buyer first.",
                      "Introduced me to the right person at {a} when my contact left.",
                      "Remembered what {a} told us last year and built the renewal on it."],
    "Adaptability": ["Rebuilt the {a} demo overnight when their requirements changed.",
                     "Switched our joint pitch to video when {a} cancelled the visit.",
                     "Took over {a} mid-quarter and had a plan within two days."],
    "Collaboration": ["Shared the {a} discovery notes so I could prepare my own call.",
                      "Covered my {a} meeting during my leave and wrote a clear hand-over.",
                      "Joined my {a} negotiation and let me lead it."],
    "Customer satisfaction": ["{a} asked for them by name in the quarterly review.",
                              "Turned a late delivery at {a} into a thank-you email.",
                              "Followed up with {a} after go-live without being asked."],
    "Learning": ["Ran a lunch-and-learn on what worked at {a}.",
                 "Used the negotiation course on the {a} renewal the week after.",
                 "Asked for feedback after the {a} pitch and changed the deck."],
}
LOW_EXAMPLES = ["Kept the {a} discovery notes to themselves; I repeated the same questions.",
                "Missed the {a} hand-over meeting we had agreed; I had to chase the details.",
                "Worked the {a} deal alone although two of us had contacts there."]
ACCOUNTS = ["Hansen Logistics", "Baltic Freight", "Nordlicht Foods", "Atlas Print",
            "Kestrel Labs", "Meridian Health", "Orion Textiles", "Vega Retail"]
# rep -> (the peers asked, how many of them have answered)
ROUNDS = {
    "Grace Liu": (["Priya Shah", "Ana Lima", "Jon Park", "Ben Carter"], 4),
    "Lena Vogel": (["Omar Haddad", "Pedro Alves", "Tom Becker"], 3),
    "Tom Becker": (["Ana Lima", "Grace Liu", "Liam O'Neil", "Chloe Dubois"], 4),
    "Hana Sato": (["Ben Carter", "Dev Patel", "Emma Novak", "Maya Singh"], 2),
    "Omar Haddad": (["Lena Vogel", "Felix Wright", "Priya Shah"], 2),
}
NOMINATED = {"Pedro Alves": ["Jon Park", "Omar Haddad", "Sara Kim"]}
DIFFERING = ("Lena Vogel", "Collaboration")  # peers see it well below the manager's rating


def _csat(seed: int, last: Period) -> int:
    """A customer-satisfaction outcome metric with two quarters of data, chosen as the customer
    voice (imported through the normal import service)."""
    if metric_by_key(CSAT) is not None:
        return 0
    add_metric(None, key=CSAT, name="Customer satisfaction (CSAT)", kind="outcome",
               direction="higher", rollup="mean", unit="of 5",
               description="Mean answer to the post-deal survey, 1 (poor) to 5 (excellent).")
    db.session.flush()
    rng = random.Random(seed + 18)
    rows = []
    for _, _, reps in TEAMS:
        for name in reps:
            level = 4.7 if name == "Tom Becker" else rng.uniform(3.6, 4.6)
            for quarter in (last.shift(-1), last):
                rows.append((email_for(name), quarter.label, CSAT,
                             round(min(5.0, level + rng.uniform(-0.2, 0.2)), 1)))
    buffer = io.StringIO()
    pd.DataFrame(rows, columns=["rep_email", "period", "metric", "value"]).to_csv(
        buffer, index=False)
    hr = db.session.scalar(sa.select(User).where(User.email == f"hr@{DOMAIN}"))
    plan = prepare_import(hr, buffer.getvalue().encode(), "demo-csat.csv", source="demo")
    if not plan.ok:  # a bug in the generator, not user input
        raise RuntimeError(f"demo CSAT data did not validate: {plan.errors[:3]}")
    apply_import(hr, plan)
    evidence.set_customer_voice_metric(hr, CSAT)
    return len(rows)


def _ratings(review: Review, rng: random.Random, index: int,
             differing: str | None) -> dict[int, tuple[int | None, str]]:
    """One peer's answer: near the manager's rating, now and then a competency not observed;
    on the differing competency two points from the manager's rating."""
    out = {}
    for rating in review.ratings:
        competency = rating.cycle_competency
        name, base = competency.name, rating.rating or 3
        if name == differing:
            value = base - 2 if base >= 3 else base + 2
        elif rng.random() < 0.12 and index % 3 == 2:
            out[competency.id] = (None, "")  # not observed
            continue
        else:
            value = max(1, min(5, base + rng.choice([-1, 0, 0, 1])))
        bank = LOW_EXAMPLES if value <= 2 else EXAMPLES.get(name, EXAMPLES["Collaboration"])
        example = bank[(index + rating.cycle_competency_id) % len(bank)].format(
            a=ACCOUNTS[(index * 3 + rating.cycle_competency_id) % len(ACCOUNTS)])
        out[competency.id] = (value, example)
    return out


def _ask_directly(review: Review, people: list[User]) -> list[PeerRequest]:
    """Requests on a review already past manager review: nominated and approved back then."""
    made = []
    for person in people:
        request = PeerRequest(review_id=review.id, peer_id=person.id,
                              nominated_by_id=review.rep_id, decided_by_id=review.manager_id,
                              state=PeerRequestState.REQUESTED)
        db.session.add(request)
        made.append(request)
    db.session.flush()
    return made


def load_peers(seed: int, today: date | None = None) -> dict:
    """Peer feedback on several reviews of the latest demo cycle, and the customer voice."""
    last = demo_quarter(today)
    cycle = db.session.scalar(sa.select(Cycle).where(Cycle.name == cycle_name(last)))
    if cycle is None:
        return {}
    reviews = {r.rep.name: r for r in db.session.scalars(
        sa.select(Review).where(Review.cycle_id == cycle.id))}
    if db.session.scalar(sa.select(PeerRequest.id).join(Review)
                         .where(Review.cycle_id == cycle.id).limit(1)):
        return {"peer feedback": "already loaded"}
    today = today or date.today()
    csat_values = _csat(seed, last)
    # The reviews step launched the cycle before peer input existed; set it as HR would have.
    services.apply_settings(cycle, services.PeerSettings(True, 5, 3, cycle.manager_due))
    people = {u.name: u for u in db.session.scalars(sa.select(User))}
    rng = random.Random(seed)
    answered = 0
    for rep, (names, n_answers) in ROUNDS.items():
        review = reviews[rep]
        asked = [people[n] for n in names]
        if review.state.rank <= ReviewState.MANAGER_REVIEW.rank:
            services.nominate(review.rep, review, [p.id for p in asked], today=today)
            requests = services.approve(review.manager, review, today=today)
        else:
            requests = _ask_directly(review, asked)
        by_peer = {r.peer_id: r for r in requests}
        differing = DIFFERING[1] if rep == DIFFERING[0] else None
        for index, person in enumerate(asked[:n_answers]):
            services.answer(person, by_peer[person.id],
                            _ratings(review, rng, index, differing), today=today)
            answered += 1
    for rep, names in NOMINATED.items():
        review = reviews[rep]
        services.nominate(review.rep, review, [people[n].id for n in names], today=today)
    db.session.flush()
    return {"peer feedback": f"{len(ROUNDS) + len(NOMINATED)} reviews, {answered} answers; "
                             f"customer voice: {csat_values} CSAT values"}
