"""Plain-language sentences for KPI validation results."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from reviewapp.lazy import np, pd

CURRENCY_PREFIXES = frozenset({"$", "€", "£", "¥", "US$", "A$", "C$"})


def fmt_number(value: float, digits: int = 2) -> str:
    """Round to `digits` significant figures with thousands separators (4087.3 -> '4,100')."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    rounded = round(value, decimals)
    return f"{rounded:,.{max(decimals, 0)}f}"


def period_text(label: Any, grain: str) -> str:
    """A panel's period label as people write it: 2026-Q3, 2026-07, 2026-W27, 2026-07-14."""
    if isinstance(label, pd.Period) or not isinstance(label, (date, np.datetime64)):
        return str(label)  # a Period says itself; integers and text are taken as they are
    stamp = pd.Timestamp(label)
    if grain == "quarter":
        return f"{stamp.year}-Q{stamp.quarter}"
    if grain == "month":
        return f"{stamp.year}-{stamp.month:02d}"
    if grain == "week":
        iso = stamp.isocalendar()
        return f"{iso[0]}-W{iso[1]:02d}"
    return stamp.date().isoformat() if grain == "day" else str(label)


def q_text(value: float, name: str = "q") -> str:
    """A q or p value as a sentence shows it: 'q < 0.001' below a thousandth (a q that rounds
    to 0 reads as certainty), else three significant figures."""
    return f"{name} < 0.001" if value < 0.001 else f"{name} = {value:.3g}"


@dataclass(frozen=True)
class Wording:
    """Display names, units and grain used to phrase results."""

    outcome: str
    names: Mapping[str, str] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    grain: str = "period"
    lag: int = 0

    def name(self, key: str) -> str:
        """Display name of a metric, falling back to its key."""
        return self.names.get(key, key)

    def _a_grain(self) -> str:
        article = "an" if self.grain[:1].lower() in "aeiou" else "a"
        return f"{article} {self.grain}"

    def _amount(self, value: float) -> str:
        unit = self.units.get(self.outcome)
        more = "more" if value >= 0 else "less"
        number = fmt_number(abs(value))
        if unit in CURRENCY_PREFIXES:  # "$2,800 more", not "2,800 $ more"
            return f"{unit}{number} {more}"
        return f"{number} {unit} {more}" if unit else f"{number} {more}"

    def insufficient(self, key: str, reason: str) -> str:
        """Sentence for a candidate without a verdict."""
        return f"{self.name(key)}: not enough data for a verdict ({reason})."

    def _across(self, key: str, pooled_corr: float) -> str:
        level = "higher" if pooled_corr > 0 else "lower"
        x_name, y_name = self.name(key), self.name(self.outcome)
        return f"across reps, people with more {x_name} have {level} {y_name}"

    def _money(self, value: float) -> str:
        unit = self.units.get(self.outcome)
        number = fmt_number(abs(value))
        if unit in CURRENCY_PREFIXES:
            return f"{unit}{number}"
        return f"{number} {unit}" if unit else number

    def likely_range(self, low: float, high: float) -> str:
        """"likely between $1,700 and $2,400 more" (no interval jargon)."""
        if low >= 0 and high >= 0:
            return f"likely between {self._money(low)} and {self._money(high)} more"
        if low <= 0 and high <= 0:
            return f"likely between {self._money(-high)} and {self._money(-low)} less"
        return f"likely between {self._money(low)} less and {self._money(high)} more"

    def fitted(
        self,
        key: str,
        coef: float,
        ci: tuple[float, float],
        detectable: bool,
        pooled_corr: float | None,
        trap: bool,
    ) -> str:
        """Sentence for a fitted candidate: the within-rep effect, and the trap if there is one."""
        x_name, y_name = self.name(key), self.name(self.outcome)
        if not detectable:
            text = f"{x_name}: no clear relation within reps"
            if trap and pooled_corr is not None:
                text += f"; {self._across(key, pooled_corr)}"
            return text + "."
        unit = self.units.get(key) or f"unit of {x_name}"
        if self.lag:
            when = f"one more {unit} in {self._a_grain()} goes with about"
            then = f" the next {self.grain}"
        else:
            when = f"one more {unit} {self._a_grain()} goes with about"
            then = ""
        text = (
            f"Within the same rep, {when} {self._amount(coef)} {y_name}{then} "
            f"({self.likely_range(*ci)})."
        )
        if trap and pooled_corr is not None:
            text += f" But {self._across(key, pooled_corr)}: comparing people would mislead."
        return text

    def plain(
        self,
        key: str,
        decision: str,
        coef: float,
        detectable: bool,
        placebo: bool,
        lead_coef: float,
        mde_raw: float,
        holdout: int,
        *,
        direction: str = "higher",
    ) -> str:
        """The verdict in words a sales manager uses: no q, SE or R\u00b2. `direction`: whether
        more or less of the metric is better, which the sentence follows (less response time
        going with more revenue is the good news)."""
        x_name, y_name = self.name(key), self.name(self.outcome)
        more_y = "more" if coef > 0 else "less"
        useful = "more" if direction == "higher" else "less"
        if placebo:
            after = "bad" if lead_coef < 0 else "good"
            return (f"{x_name[:1].upper()}{x_name[1:]} follows results rather than leading "
                    f"them: it rose after {after} {self.grain}s, so the pattern cannot be "
                    f"read as {x_name} bringing {y_name}.")
        if decision == "kpi":
            return (f"Within the same rep, {useful} {x_name} went with more {y_name}; the "
                    f"pattern held on the {holdout} {self.grain}s the model had not seen.")
        if decision == "not_predictive":
            if detectable and (coef > 0) != (direction == "higher"):
                return (f"Within the same rep, more {x_name} went with {more_y} {y_name}: the "
                        f"wrong way for a metric where {useful} is better.")
            if detectable:
                return (f"Within the same rep, more {x_name} went with {more_y} {y_name}, "
                        "but not by enough to be worth scoring.")
            return (f"Within the same rep, {useful} {x_name} did not go with more {y_name}: "
                    "the data rule out an effect large enough to be worth scoring.")
        unit = self.units.get(key) or f"unit of {x_name}"
        per = f"per extra {unit}" if direction == "higher" else f"for each {unit} less"
        needed = (f" Only an effect of about {self._money(mde_raw)} or more {per} would have "
                  "shown up reliably." if math.isfinite(mde_raw) else "")
        return (f"Not shown with this much data: within the same rep, {useful} {x_name} may "
                f"or may not go with more {y_name}.{needed}")

    def trap_note(self, key: str, pooled_corr: float, detectable: bool) -> str:
        """Why the across-rep pattern should not be read as an effect of the activity."""
        within = (
            "the relation goes the other way" if detectable else "there is no detectable relation"
        )
        across = self._across(key, pooled_corr)
        return (
            f"{across[0].upper()}{across[1:]}, but within the same rep {within}: "
            "the pattern is about who the people are, not what the activity does."
        )


def confirmation_note(verdict: str, grain: str) -> str:
    """What the two period ends add to a pass (empty for other verdicts)."""
    if verdict == "kpi":
        return f" It held at both of the last two {grain} ends."
    if verdict == "provisional":
        return (f" So far it held at the latest {grain} end only: it becomes a KPI if the next "
                f"{grain} confirms it.")
    return ""
