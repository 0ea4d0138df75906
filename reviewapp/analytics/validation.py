"""KPI validation: does a candidate activity predict the outcome within the same rep?

Method (DESIGN.md, "KPI validation, the method"): a joint two-way fixed-effects OLS (rep and
period) of the outcome on all candidates, over reps with at least two complete periods,
cluster-robust by rep (t with G-1 df, or a wild cluster bootstrap when clusters are few),
Benjamini-Hochberg q across candidates, pooled vs within correlations (the between-rep trap),
an out-of-sample R^2 gain on the latest periods, a placebo with the next period's activity,
guard rails, three verdicts (kpi, not_predictive when the interval rules out the smallest
effect worth scoring, inconclusive otherwise, with the minimum detectable effect), and
positive deviance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.metadata import version
from typing import Any

from reviewapp.analytics.bootstrap import bootstrap_test, webb_weights
from reviewapp.analytics.deviance import positive_deviance
from reviewapp.analytics.fe import (
    WithinFit,
    fe_rank,
    fit_within,
    independent_columns,
    out_of_sample,
)
from reviewapp.analytics.panel import (
    PERIOD,
    REP,
    PreparedPanel,
    absorb,
    demean_by,
    prepare_panel,
)
from reviewapp.analytics.results import (
    CandidateResult,
    Decision,
    ValidationParams,
    ValidationResult,
)
from reviewapp.analytics.wording import Wording, fmt_number, period_text, q_text
from reviewapp.lazy import np, pd

__all__ = [
    "CandidateResult",
    "ValidationParams",
    "ValidationResult",
    "bh_qvalues",
    "library_versions",
    "validate",
]

# A within-rep SD at or below this share of the column's overall spread is rounding noise left
# by demeaning a constant, not variation. Relative to the spread, not the level: a metric
# around 1e9 with a within-rep SD of 0.5 does vary.
VARIATION_EPS = 1e-9


def bh_qvalues(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q), as multipletests(method='fdr_bh')."""
    p = np.asarray(pvalues, dtype=float)
    m = p.shape[0]
    if m == 0:
        return p
    order = np.argsort(p)
    scaled = p[order] * m / np.arange(1, m + 1)
    # Step-up: each q is the smallest scaled p at or above its rank.
    q_sorted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    q = np.empty(m)
    q[order] = q_sorted
    return q


def library_versions() -> dict[str, str]:
    """Versions of the numerical libraries, stored with a run for reproducibility."""
    return {
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": version("scipy"),
        "statsmodels": version("statsmodels"),
    }


def _panel_problems(prep: PreparedPanel, params: ValidationParams) -> list[str]:
    """Human reasons why the panel as a whole cannot support a verdict (empty if it can)."""
    problems = []
    if prep.n_reps < params.min_reps:
        problems.append(
            f"only {prep.n_reps} rep{'' if prep.n_reps == 1 else 's'} with at least two "
            "complete periods; "
            f"at least {params.min_reps} needed"
        )
    min_periods = max(params.min_periods, params.holdout_periods + 2)
    if prep.n_periods < min_periods:
        why = (
            ""
            if min_periods == params.min_periods
            else (f" ({params.holdout_periods} held out for the out-of-sample check)")
        )
        problems.append(
            f"only {prep.n_periods} period{'' if prep.n_periods == 1 else 's'} with complete "
            f"data; at least {min_periods} needed{why}"
        )
    if prep.n_obs < params.min_obs:
        problems.append(
            f"only {prep.n_obs} complete observation{'' if prep.n_obs == 1 else 's'}; at least "
            f"{params.min_obs} needed"
        )
    return problems


def _correlations(x_raw: np.ndarray, y_raw: np.ndarray) -> np.ndarray:
    """Column-wise Pearson correlation of each x column with y (NaN when a side is constant)."""
    xc = x_raw - x_raw.mean(axis=0)
    yc = y_raw - y_raw.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        return (xc.T @ yc) / np.sqrt((xc * xc).sum(axis=0) * float(yc @ yc))


def _num(value: float | None) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


@dataclass(frozen=True)
class Tested:
    """Coefficients of some absorbed columns with the deciding p-values and intervals."""

    fit: WithinFit
    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    method: str


def _test(
    y_abs: np.ndarray,
    x_abs: np.ndarray,
    columns: np.ndarray,
    prep: PreparedPanel,
    period_codes: np.ndarray | None,
    n_absorbed: int,
    params: ValidationParams,
    want_interval: bool = True,
) -> Tested:
    """Joint fit of x_abs; p and CI of `columns` by cluster t, or wild bootstrap if G is small."""
    level = 1.0 - params.alpha
    fit = fit_within(y_abs, x_abs, prep.rep_codes, prep.n_reps, n_absorbed, ci_level=level)
    if prep.n_reps >= params.bootstrap_below:
        return Tested(fit, fit.p_cluster[columns], fit.ci_low[columns], fit.ci_high[columns],
                      "cluster_t")
    weights = webb_weights(params.bootstrap_draws, prep.n_reps, params.seed)
    p, low, high = (np.full(columns.shape[0], np.nan) for _ in range(3))
    for i, j in enumerate(columns):
        test = bootstrap_test(y_abs, x_abs, int(j), prep.rep_codes, prep.n_reps, period_codes,
                              prep.n_periods, fit.n_params, weights)
        p[i] = test.p_value(0.0)
        if want_interval:
            low[i], high[i] = test.interval(level)
    return Tested(fit, p, low, high, "wild_bootstrap")


@dataclass(frozen=True)
class Placebo:
    """The lead (next period's activity) of each fitted candidate, in the same model."""

    coef: np.ndarray
    p: np.ndarray
    q: np.ndarray


def _placebo(panel: pd.DataFrame, outcome: str, candidates: list[str], fitted: np.ndarray,
             params: ValidationParams, grain: str, rep_col: str, period_col: str) -> Placebo:
    """y_t ~ x_t (lagged as asked) + x_(t+1) + effects: does activity follow results?"""
    nan = np.full(fitted.shape[0], np.nan)
    none = Placebo(nan, nan, nan)
    keys = [candidates[j] for j in fitted]
    prep = prepare_panel(panel, outcome, keys, params.lag, rep_col, period_col, grain=grain,
                         leads=True)
    if _panel_problems(prep, replace(params, holdout_periods=1)) or prep.n_obs <= prep.n_reps:
        return none
    period_codes = prep.period_codes if params.period_effects else None
    design = np.column_stack([prep.y, prep.x])
    absorbed = absorb(design - design.mean(axis=0), prep.rep_codes, prep.n_reps, period_codes,
                      prep.n_periods).resid
    y_abs, x_abs = absorbed[:, 0], absorbed[:, 1:]
    one_way = absorb(prep.x - prep.x.mean(axis=0), prep.rep_codes, prep.n_reps).resid
    keep = independent_columns(x_abs.T @ x_abs, (one_way**2).sum(axis=0))
    k = len(keys)
    if not keep.all():
        return none
    n_absorbed = fe_rank(prep.rep_codes, prep.n_reps, period_codes, prep.n_periods)
    if prep.n_obs - 2 * k - n_absorbed < 1:
        return none
    leads = np.arange(k, 2 * k)
    tested = _test(y_abs, x_abs, leads, prep, period_codes, n_absorbed, params,
                   want_interval=False)
    return Placebo(tested.fit.coef[leads], tested.p, bh_qvalues(tested.p))


# A value this many robust SDs (1.4826 MADs) from the median of what the model compares is
# no sales figure but a typo or a unit mix-up (normal data stay under 6).
EXTREME_Z = 12.0


def _extreme_rows(absorbed: np.ndarray) -> np.ndarray:
    """n x m: whether each value of each column lies EXTREME_Z robust SDs from its median."""
    median = np.median(absorbed, axis=0)
    mad = np.median(np.abs(absorbed - median), axis=0) * 1.4826
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(absorbed - median) / mad
    return np.where(mad > 0, z > EXTREME_Z, False)


def mde_factor(alpha: float, power: float, df: int) -> float:
    """(t_(1-alpha/2) + t_power) on df: times an SE, the effect found with that power."""
    from scipy import stats  # imported on use: every app start would pay for scipy.stats

    return float(stats.t.ppf(1.0 - alpha / 2.0, df) + stats.t.ppf(power, df))


def _decide(
    *, q: float, coef: float, std_ci: tuple[float, float], gain: float, lead_q: float,
    direction: str, params: ValidationParams, holdout_note: str, mde: float,
) -> tuple[Decision, str]:
    """kpi, not_predictive (the CI rules out any effect worth scoring) or inconclusive."""
    alpha, margin = params.alpha, params.margin
    sign = 1.0 if direction == "higher" else -1.0
    best = max(sign * std_ci[0], sign * std_ci[1])  # the most favourable effect still likely
    level = f"{1 - alpha:.0%}"
    if best < margin:
        if max(sign * std_ci[0], sign * std_ci[1]) < 0 and q < alpha:
            side = "positive" if coef > 0 else "negative"
            return "not_predictive", (
                f"the within-rep coefficient is {side} but {direction} is better")
        return "not_predictive", (
            f"the {level} interval of the standardised effect ends at {best:.2g} in the "
            f"useful direction, below the smallest effect worth scoring ({margin:g})")
    failures = []
    if not q < alpha:
        failures.append(f"no clear within-rep relation (q = {q:.3g}, needs < {alpha:g})")
    elif np.sign(coef) != sign:
        side = "positive" if coef > 0 else "negative"
        failures.append(f"the within-rep coefficient is {side} but {direction} is better")
    if not np.isfinite(gain):
        failures.append(f"the out-of-sample check could not be computed on {holdout_note}")
    elif gain <= 0:
        failures.append(
            f"it does not improve out-of-sample R\u00b2 on {holdout_note} (gain {gain:.3g})")
    if params.placebo and not np.isfinite(lead_q):
        # No placebo is no evidence that activity leads results: a metric logged after the
        # sale passed as a KPI whenever the window was too short for the lead.
        failures.append(
            "the placebo check (does the next period's value predict this period's outcome?) "
            "could not be run: it needs more periods with a following one; use a longer window")
    elif lead_q < params.placebo_alpha:
        failures.append(
            f"the next period's value predicts this period's outcome (placebo {q_text(lead_q)})"
            ": activity follows results rather than leading them")
    if failures:
        return "inconclusive", "; ".join(failures) + (
            f"; with this much data only an effect of {mde:.2g} SD or more would be found "
            "reliably" if np.isfinite(mde) else "")
    return "kpi", (
        f"{q_text(q)}, below {alpha:g}, sign as expected ({direction} is better), "
        f"out-of-sample R\u00b2 gain {gain:.3g} on {holdout_note}, no placebo effect")


def _set_aside(panel: pd.DataFrame, outcome: str, candidates: list[str],
               params: ValidationParams, grain: str, rep_col: str,
               period_col: str) -> dict[str, str]:
    """The candidates to test without, when together they leave too little data: each one
    too short on its own data (a metric tracked for two quarters, or not yet at all), or else
    the one with the fewest complete observations, whose periods overlap the others' too
    little. Keyed by candidate, with the reason it gets no verdict."""
    own = {key: prepare_panel(panel, outcome, [key], params.lag, rep_col, period_col,
                              grain=grain) for key in candidates}
    tail = "; the other candidates were tested without it"
    aside = {key: ("it has no complete observations in these periods yet" if not prep.n_obs
                   else "; ".join(problems)) + tail
             for key, prep in own.items() if (problems := _panel_problems(prep, params))}
    if aside:
        return aside
    fewest = min(candidates, key=lambda key: (own[key].n_obs, -candidates.index(key)))
    return {fewest: (f"its {own[fewest].n_obs} complete observations overlap the other "
                     "candidates' too little to test them together" + tail)}


# Candidates are tested on the rep-periods where all of them have values: one tracked on few of
# the others' rows would shrink everyone's sample to its own (a pilot metric on 15 of 120 reps
# took a proven KPI's verdict with it). Below this share of the best-covered candidate's rows,
# a candidate that would do so is tested without.
COVERAGE_SHARE = 0.5


def _starving(panel: pd.DataFrame, outcome: str, candidates: list[str]) -> dict[str, str]:
    """The candidates whose few rows would starve the others when tested together, keyed by
    candidate with the reason it gets no verdict; {} when the joint rows are enough."""
    y = np.isfinite(panel[outcome].to_numpy(dtype=float))
    has = {key: np.isfinite(panel[key].to_numpy(dtype=float)) & y for key in candidates}
    rows = {key: int(mask.sum()) for key, mask in has.items()}
    best = max(rows.values())
    joint = int(np.logical_and.reduce(list(has.values())).sum())
    if not best or joint >= COVERAGE_SHARE * best:
        return {}
    few = [key for key in candidates if rows[key] < COVERAGE_SHARE * best]
    if not few or len(few) == len(candidates):
        return {}
    return {key: (f"it has values on {rows[key]} of the {best} rep-periods the other "
                  "candidates cover, and tested with them it would leave them that little; "
                  "it is tested once it covers at least half of them; the other candidates "
                  "were tested without it") for key in few}


def validate(
    panel: pd.DataFrame,
    outcome: str,
    candidates: Sequence[str],
    directions: Mapping[str, str],
    params: ValidationParams | None = None,
    *,
    names: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    grain: str = "period",
    rep_col: str = REP,
    period_col: str = PERIOD,
    prefer: Sequence[str] = (),
) -> ValidationResult:
    """Run the KPI validation of `candidates` against `outcome` on a rep x period panel.

    Of candidates that carry the same information (one a multiple of another), the first in
    `prefer` (the KPIs already), else the first listed, is fitted and the others get no
    verdict."""
    params = params or ValidationParams()
    candidates = list(candidates)
    for key in candidates:
        if directions.get(key) not in ("higher", "lower"):
            raise ValueError(f"direction of {key!r} must be 'higher' or 'lower'")
    wording = Wording(outcome, names or {}, units or {}, grain, params.lag)
    prep = prepare_panel(panel, outcome, candidates, params.lag, rep_col, period_col,
                         grain=grain)
    base = {"n_reps": prep.n_reps, "n_obs": prep.n_obs}
    method = "wild_bootstrap" if prep.n_reps < params.bootstrap_below else "cluster_t"

    def insufficient(key: str, reason: str, **extra: Any) -> CandidateResult:
        return CandidateResult(
            key=key, name=wording.name(key), direction=directions[key],
            decision="insufficient_data", reason=reason,
            sentence=wording.insufficient(key, reason),
            plain=wording.insufficient(key, reason), **base, **extra)

    def panel_fails(reason: str, df_resid: int | None = None) -> ValidationResult:
        return ValidationResult(
            outcome=outcome, params=params, n_reps=prep.n_reps, n_obs=prep.n_obs,
            n_periods=prep.n_periods,
            candidates=[insufficient(key, reason) for key in candidates],
            deviance_note=f"not run: {reason}", insufficient_reason=reason, df_resid=df_resid,
            versions=library_versions(), n_reps_once=prep.n_reps_once, inference=method)

    problems = _panel_problems(prep, params)
    aside = {}
    if problems and len(candidates) > 1:
        aside = _set_aside(panel, outcome, candidates, params, grain, rep_col, period_col)
    elif len(candidates) > 1:
        aside = _starving(panel, outcome, candidates)
    if aside:
        rest = validate(panel, outcome, [c for c in candidates if c not in aside],
                        directions, params, names=names, units=units, grain=grain,
                        rep_col=rep_col, period_col=period_col, prefer=prefer)
        by_key = {c.key: c for c in rest.candidates}
        return replace(rest, candidates=[
            by_key.get(key) or replace(insufficient(key, aside[key]), n_reps=rest.n_reps,
                                       n_obs=rest.n_obs)
            for key in candidates])
    if problems:
        return panel_fails("; ".join(problems))

    g, n_periods, n = prep.n_reps, prep.n_periods, prep.n_obs
    rep_codes = prep.rep_codes
    period_codes = prep.period_codes if params.period_effects else None
    # Centred first: demeaning then works on deviations, so rounding depends on the spread.
    design = np.column_stack([prep.y, prep.x])
    design = design - design.mean(axis=0)
    one_way = absorb(design, rep_codes, g).resid
    y_w, x_w = one_way[:, 0], one_way[:, 1:]
    spread = design.std(axis=0)
    within = np.sqrt((one_way * one_way).sum(axis=0) / (n - g))
    if within[0] <= VARIATION_EPS * spread[0] or spread[0] == 0:
        return panel_fails(f"{wording.name(outcome)} does not vary within reps")
    varies = (within[1:] > VARIATION_EPS * spread[1:]) & (spread[1:] > 0)
    absorbed = absorb(design, rep_codes, g, period_codes, n_periods).resid if (
        params.period_effects) else one_way
    y_abs, x_abs = absorbed[:, 0], absorbed[:, 1:]
    # Pooled (people compared) against within (the same person over time). With period
    # effects both leave out the season, as the model does: a metric that only rises with
    # everyone's Q4 is not a "who the people are" pattern, and read raw it was called one.
    if params.period_effects:
        across = demean_by(prep.period_codes, design, n_periods)
        pooled_corr = _correlations(across[:, 1:], across[:, 0])
        within_corr = _correlations(x_abs, y_abs)
    else:
        pooled_corr = _correlations(prep.x, prep.y)
        within_corr = _correlations(x_w, y_w)
    n_absorbed = fe_rank(rep_codes, g, period_codes, n_periods)
    # Standardise by the variation the model compares: within rep (and period).
    model_sd = np.sqrt((absorbed * absorbed).sum(axis=0) / max(n - n_absorbed, 1))
    y_sd, x_sd = float(model_sd[0]), model_sd[1:]
    # The independence check keeps the earlier of two copies: the preferred ones go first.
    fitted = np.array(sorted(np.flatnonzero(varies), key=lambda j: (candidates[j] not in prefer,
                                                                     j)), dtype=np.intp)
    x_fit = x_abs[:, fitted]
    keep = independent_columns(x_fit.T @ x_fit, (x_w[:, fitted] ** 2).sum(axis=0))
    collinear = fitted[~keep]
    fitted = np.sort(fitted[keep])
    df_resid = n - fitted.shape[0] - n_absorbed
    if df_resid < 1:
        return panel_fails(
            f"{n} observations are too few for {g} reps"
            + (f", {n_periods} periods" if params.period_effects else "")
            + f" and {fitted.shape[0]} candidates", df_resid)

    tested = (_test(y_abs, x_abs[:, fitted], np.arange(fitted.shape[0]), prep, period_codes,
                    n_absorbed, params) if fitted.size else None)
    fit = tested.fit if tested else None
    q = bh_qvalues(tested.p) if tested else np.empty(0)
    placebo = (_placebo(panel, outcome, candidates, fitted, params, grain, rep_col, period_col)
               if params.placebo and fitted.size else None)
    oos = out_of_sample(prep.y, prep.x[:, fitted], rep_codes, prep.period_codes, n_periods,
                        params.holdout_periods, params.period_effects)
    holdout_note = f"the last {params.holdout_periods} {wording.grain}s"
    factor = mde_factor(params.alpha, params.power, g - 1)

    extreme = _extreme_rows(absorbed)

    def suspect_note(j: int) -> str | None:
        """Why the candidate gets no verdict while a few values lie far outside the rest."""
        rows = np.flatnonzero(extreme[:, 0] | extreme[:, 1 + j])
        if not rows.size:
            return None
        worst = rows[np.argmax(np.abs(absorbed[rows, 0]) + np.abs(absorbed[rows, 1 + j]))]
        which = outcome if extreme[worst, 0] else candidates[j]
        raw = prep.y[worst] if extreme[worst, 0] else prep.x[worst, j]
        # One typo shifts its rep's and its period's other values too (each is compared with
        # their averages): name the most extreme, do not count them.
        # No rep named: the run is read by managers who may not see that rep (and the label
        # is a database id); the metric, the figure and the period find the row.
        period = period_text(prep.periods[prep.period_codes[worst]], grain)
        return (f"some values lie far outside the rest (the most extreme: one rep's "
                f"{wording.name(which)} of {fmt_number(float(raw), 4)} in {period}): "
                "check them for typos; until then the data give no verdict")

    results: list[CandidateResult] = []
    position = {int(j): i for i, j in enumerate(fitted)}
    for j, key in enumerate(candidates):
        descriptive = {"pooled_corr": _num(pooled_corr[j]), "within_sd": _num(x_sd[j])}
        if not varies[j]:
            results.append(insufficient(key, "it does not vary within reps", **descriptive))
            continue
        if j in collinear:
            reason = "it carries no information beyond the other candidates" + (
                " and period effects" if params.period_effects else "")
            sentence = f"{wording.name(key)}: no verdict of its own: {reason}."
            results.append(replace(insufficient(key, reason, **descriptive),
                                   sentence=sentence, plain=sentence))
            continue
        assert fit is not None and tested is not None  # fitted is non-empty here
        i = position[j]
        coef, qi = float(fit.coef[i]), float(q[i])
        scale = float(x_sd[j]) / y_sd  # raw coefficient -> standardised effect
        ci = (float(tested.ci_low[i]), float(tested.ci_high[i]))
        std_ci = (ci[0] * scale, ci[1] * scale)
        mde = factor * float(fit.se_cluster[i]) * scale
        gain = oos.gains[i]
        lead_coef, lead_p, lead_q = ((float(placebo.coef[i]), float(placebo.p[i]),
                                      float(placebo.q[i])) if placebo else (np.nan,) * 3)
        decision, reason = _decide(q=qi, coef=coef, std_ci=std_ci, gain=gain, lead_q=lead_q,
                                   direction=directions[key], params=params,
                                   holdout_note=holdout_note, mde=mde)
        suspect = suspect_note(j)
        if suspect and decision in ("kpi", "not_predictive"):
            # One mistyped revenue (x100) swelled the spread until a real driver read as
            # "ruled out", or could make a noise metric look like one.
            decision, reason = "inconclusive", f"{suspect} (the fit alone: {reason})"
        detectable = qi < params.alpha
        r_pooled = pooled_corr[j]
        clear_pattern = bool(np.isfinite(r_pooled) and abs(r_pooled) >= params.trap_min_corr)
        # The trap: a clear across-rep pattern that the within-rep evidence does not back
        # (no detectable relation, or one of the opposite sign).
        trap = clear_pattern and bool(not detectable or np.sign(coef) != np.sign(r_pooled))
        placebo_flag = bool(np.isfinite(lead_q) and lead_q < params.placebo_alpha)
        results.append(CandidateResult(
            key=key, name=wording.name(key), direction=directions[key], decision=decision,
            reason=reason, suspect=bool(suspect) and decision == "inconclusive",
            sentence=wording.fitted(key, coef, ci, detectable, float(r_pooled), trap),
            plain=(f"{suspect[:1].upper()}{suspect[1:]}." if suspect and decision == "inconclusive"
                   else wording.plain(key, decision, coef, detectable, placebo_flag, lead_coef,
                                      mde / scale if scale else np.nan,
                                      params.holdout_periods, direction=directions[key])),
            **base, coef=coef, se_classical=float(fit.se_classical[i]),
            se_cluster=float(fit.se_cluster[i]), t=float(fit.t_cluster[i]),
            p=float(tested.p[i]), q=qi, ci_low=ci[0], ci_high=ci[1],
            standardised_effect=coef * scale, std_ci_low=std_ci[0], std_ci_high=std_ci[1],
            mde=_num(mde), margin_raw=params.margin / scale if scale else None,
            partial_r2=float(fit.partial_r2[i]), oos_gain=_num(gain),
            within_corr=_num(within_corr[j]), trap=trap,
            trap_note=wording.trap_note(key, float(r_pooled), detectable) if trap else None,
            lead_coef=_num(lead_coef), lead_p=_num(lead_p), lead_q=_num(lead_q),
            placebo_flag=placebo_flag, **descriptive))

    passed = [j for j, r in enumerate(results) if r.decision == "kpi"]
    passed_coef = np.array([fit.coef[position[j]] for j in passed]) if passed else np.empty(0)
    activity = {r.key: (prep.x[:, j], directions[r.key])
                for j, r in enumerate(results) if r.decision == "not_predictive"}
    deviance = positive_deviance(
        prep.y, prep.x[:, passed], passed_coef, activity, rep_codes, prep.reps,
        prep.period_codes, n_periods, params.deviance_threshold, params.coaching_threshold,
        params.deviance_min_periods)
    if passed:
        deviance_note = (
            "within-rep coefficients of the validated KPIs "
            f"({', '.join(wording.name(candidates[j]) for j in passed)}) plus period effects; "
            f"reps with at least {params.deviance_min_periods} periods, shrunk by reliability")
    else:
        deviance_note = ("no candidate passed, so the outcome is compared with period effects "
                         f"only; reps with at least {params.deviance_min_periods} periods, "
                         "shrunk by reliability")
    return ValidationResult(
        outcome=outcome, params=params, n_reps=prep.n_reps, n_obs=prep.n_obs,
        n_periods=n_periods, candidates=results,
        teachable_moments=deviance.teachable_moments, coaching=deviance.coaching,
        deviance_predictors=[candidates[j] for j in passed], deviance_note=deviance_note,
        df_resid=df_resid, oos_r2_full=oos.r2_full, oos_n_obs=oos.n_obs,
        holdout_periods=[prep.periods[c] for c in oos.holdout_periods],
        versions=library_versions(), n_reps_once=prep.n_reps_once, inference=method,
        deviance_excluded=deviance.n_excluded)
