"""Within-rep fixed-effects OLS by linear algebra: one joint fit, cluster-robust SEs, OOS gains.

Everything works on matrices from which rep (and period) effects were already absorbed
(`panel.absorb`). By Frisch-Waugh-Lovell the candidate block of the dummy regression
(`y ~ x + C(rep) [+ C(period)]`) is identical: same coefficients, residuals, classical and
cluster-robust sandwich, provided the degrees of freedom count the absorbed dummies. That
count is what `fe_rank` returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewapp.analytics.panel import absorb, group_means, group_sums
from reviewapp.lazy import np

# A candidate whose share of within variation left after the other candidates (and period
# effects) is below this (as a norm ratio, so R^2 above 1 - 1e-12) is treated as collinear.
# Working on the k x k Gram matrix squares the condition number, so 1e-6 stays well above
# rounding noise (about sqrt(k * machine epsilon)).
COLLINEAR_TOL = 1e-6


def fe_rank(
    rep_codes: np.ndarray, n_reps: int, period_codes: np.ndarray | None, n_periods: int
) -> int:
    """Rank of the absorbed dummy block: G, or G + T - (connected rep-period components)."""
    if period_codes is None:
        return n_reps
    # Rep and period dummies share one direction per connected block of the rep-period
    # bipartite graph; in a normal panel that is one block and the rank is G + T - 1.
    n = n_reps + n_periods
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix(
        (np.ones(rep_codes.shape[0]), (rep_codes, n_reps + period_codes)), shape=(n, n)
    )
    n_blocks = connected_components(graph, directed=False)[0]
    return n_reps + n_periods - n_blocks


def independent_columns(gram: np.ndarray, reference_sq_norms: np.ndarray) -> np.ndarray:
    """Boolean mask of columns kept: drop those (near-)collinear with the rest after absorbing.

    `gram` is X'X of the absorbed columns; `reference_sq_norms` their squared one-way within
    norms, so a column that period effects swallow also shows up as (near) zero. Columns are
    taken in the order given (the order HR listed the candidates): each is kept when what is
    left of it after projecting on the columns kept before it has a norm above
    `COLLINEAR_TOL` (relative to its one-way within norm). A Cholesky factor grown one column
    at a time on the scaled Gram matrix does this at k x k cost. Of two copies of one metric,
    the first listed stays; pivoted QR chose by floating-point ties, so the choice changed
    with the LAPACK build.
    """
    k = gram.shape[0]
    keep = np.zeros(k, dtype=bool)
    if k == 0:
        return keep
    scale = np.sqrt(np.where(reference_sq_norms > 0, reference_sq_norms, 1.0))
    scaled = gram / np.outer(scale, scale)
    factor = np.zeros((k, k))  # lower-triangular, rows and columns in the order kept
    kept: list[int] = []
    for j in range(k):
        m = len(kept)
        if m:
            import scipy.linalg

            v = scipy.linalg.solve_triangular(factor[:m, :m], scaled[kept, j], lower=True)
            residual = float(scaled[j, j] - v @ v)
        else:
            v, residual = np.empty(0), float(scaled[j, j])
        if residual > COLLINEAR_TOL ** 2:
            factor[m, :m], factor[m, m] = v, np.sqrt(residual)
            kept.append(j)
    keep[kept] = True
    return keep


@dataclass(frozen=True)
class WithinFit:
    """Joint within-rep OLS of the outcome on the fitted candidates (arrays in column order)."""

    coef: np.ndarray
    se_classical: np.ndarray
    t_classical: np.ndarray
    se_cluster: np.ndarray
    t_cluster: np.ndarray
    p_cluster: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    partial_r2: np.ndarray
    df_resid: int  # n - k - rank(absorbed dummies), as the dummy regression has
    df_cluster: int  # G - 1, the t df statsmodels uses with cov_type='cluster', use_t=True
    n_params: int  # k + rank(absorbed dummies): K in the (N-1)/(N-K) correction
    resid: np.ndarray


def fit_within(
    y_abs: np.ndarray,
    x_abs: np.ndarray,
    rep_codes: np.ndarray,
    n_reps: int,
    n_absorbed: int,
    ci_level: float = 0.95,
) -> WithinFit:
    """OLS on absorbed data with classical and CRV1 cluster-by-rep inference (statsmodels rules)."""
    n, k = x_abs.shape
    xtx = x_abs.T @ x_abs
    bread = np.linalg.inv(xtx)
    coef = bread @ (x_abs.T @ y_abs)
    resid = y_abs - x_abs @ coef
    n_params = k + n_absorbed
    df_resid = n - n_params
    sigma2 = float(resid @ resid) / df_resid
    se_classical = np.sqrt(np.diag(bread) * sigma2)
    t_classical = coef / se_classical
    # CRV1 exactly as statsmodels' cov_cluster: meat from per-rep score sums, scaled by
    # G/(G-1) * (N-1)/(N-K) with K counting the dummies of the equivalent dummy regression.
    score_sums = group_sums(rep_codes, x_abs * resid[:, None], n_reps)
    cov = bread @ (score_sums.T @ score_sums) @ bread
    cov *= n_reps / (n_reps - 1.0) * (n - 1.0) / (n - n_params)
    se_cluster = np.sqrt(np.diag(cov))
    t_cluster = coef / se_cluster
    df_cluster = n_reps - 1
    from scipy import stats  # scipy is imported on use: it would cost every app start 0.4 s

    p_cluster = 2.0 * stats.t.sf(np.abs(t_cluster), df_cluster)
    half = stats.t.ppf(0.5 + ci_level / 2.0, df_cluster) * se_cluster
    # FWL: partial R^2 of a candidate given the others and the fixed effects, from classical t.
    partial_r2 = t_classical**2 / (t_classical**2 + df_resid)
    return WithinFit(
        coef=coef,
        se_classical=se_classical,
        t_classical=t_classical,
        se_cluster=se_cluster,
        t_cluster=t_cluster,
        p_cluster=p_cluster,
        ci_low=coef - half,
        ci_high=coef + half,
        partial_r2=partial_r2,
        df_resid=df_resid,
        df_cluster=df_cluster,
        n_params=n_params,
        resid=resid,
    )


@dataclass(frozen=True)
class OutOfSample:
    """Holdout R^2 of the full joint model and the gain each candidate adds to it."""

    r2_full: float | None
    gains: np.ndarray  # per fitted column; NaN when it cannot be computed
    n_obs: int  # scored holdout rows
    n_reps: int  # reps scored (present in training)
    holdout_periods: np.ndarray  # period codes held out


def _solve_small(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve a small symmetric system; min-norm if it is singular in the training part."""
    import scipy.linalg

    try:
        return scipy.linalg.solve(a, b, assume_a="pos", check_finite=False)
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        return np.linalg.lstsq(a, b, rcond=None)[0]


def out_of_sample(
    y: np.ndarray,
    x: np.ndarray,
    rep_codes: np.ndarray,
    period_codes: np.ndarray,
    n_periods: int,
    holdout: int,
    period_effects: bool,
) -> OutOfSample:
    """Fit on all but the last `holdout` periods, score the rest with the training rep effects.

    The full model and every "without candidate j" model come from one absorption and one
    set of training normal equations (sub-block solves), so this costs k small solves.
    With period effects the held-out periods' own effects cannot be known from training;
    both actual and predicted values are then centred within each held-out period, so R^2
    measures how well the model ranks reps inside a period (the same for every sub-model).
    """
    k = x.shape[1]
    empty = OutOfSample(None, np.full(k, np.nan), 0, 0, np.arange(0))
    first_holdout = n_periods - holdout
    if k == 0 or first_holdout < 1:
        return empty
    train = period_codes < first_holdout
    train_reps, tr_codes = np.unique(rep_codes[train], return_inverse=True)
    g_tr = train_reps.shape[0]
    tr_periods = period_codes[train] if period_effects else None
    two_way = absorb(
        np.column_stack([y[train], x[train]]), tr_codes, g_tr, tr_periods, first_holdout
    )
    y_tr, x_tr = two_way.resid[:, 0], two_way.resid[:, 1:]
    a_y, a_x = two_way.rep_effects[:, 0], two_way.rep_effects[:, 1:]
    xtx, xty = x_tr.T @ x_tr, x_tr.T @ y_tr

    # Coefficient vectors of all k+1 models as columns: full, then each one left out.
    betas = np.zeros((k, k + 1))
    betas[:, 0] = _solve_small(xtx, xty)
    for j in range(k):
        rest = np.arange(k) != j
        betas[rest, j + 1] = _solve_small(xtx[np.ix_(rest, rest)], xty[rest])

    # Holdout rows of reps seen in training; rep effect of model b is a_y - a_x @ b.
    position = np.full(int(rep_codes.max()) + 1, -1)
    position[train_reps] = np.arange(g_tr)
    hold = ~train & (position[rep_codes] >= 0)
    if not hold.any():
        return empty
    hold_rep = position[rep_codes[hold]]
    r0 = y[hold] - a_y[hold_rep]
    z = x[hold] - a_x[hold_rep]
    y_h = y[hold]
    if period_effects:
        hp = period_codes[hold] - first_holdout
        r0 = r0 - group_means(hp, r0, holdout)[hp]
        z = z - group_means(hp, z, holdout)[hp]
        y_c = y_h - group_means(hp, y_h, holdout)[hp]
    else:
        y_c = y_h - y_h.mean()
    sst = float(y_c @ y_c)
    if sst <= 0:
        return empty
    errors = r0[:, None] - z @ betas
    r2 = 1.0 - np.einsum("ij,ij->j", errors, errors) / sst
    return OutOfSample(
        r2_full=float(r2[0]),
        gains=r2[0] - r2[1:],
        n_obs=int(hold.sum()),
        n_reps=int(np.unique(hold_rep).shape[0]),
        holdout_periods=np.arange(first_holdout, n_periods),
    )
