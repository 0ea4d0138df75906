"""Wild cluster bootstrap (WCR, Webb weights, null imposed) for a within-rep coefficient.

With few clusters the cluster-robust t test over-rejects; the restricted wild cluster bootstrap
does not (Cameron, Gelbach and Miller 2008; MacKinnon and Webb 2018). Webb's six-point weights
give enough distinct draws even with ten clusters. The bootstrap is of the dummy regression
`y ~ x + C(rep) [+ C(period)]`, clustered by rep, computed on absorbed data:

- restricted residuals u(b0) = M(y~ - b0 x~_j) are linear in the tested value b0, so every
  bootstrap t statistic is a ratio of quantities linear (numerator) and quadratic
  (denominator) in b0; one pass over the draws serves the p-value at 0, at the equivalence
  margin, and the confidence interval by test inversion;
- each bootstrap sample's residuals are M_X M_D (u * w_rep). With rep effects only, M_D leaves
  u * w unchanged (u sums to zero within each rep and w is constant there); with period effects
  it does not, and the G per-rep pieces of u are absorbed once (an n x G matrix).

Everything is seeded: the same data, parameters and seed give the same p-values.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewapp.analytics.panel import absorb, group_sums
from reviewapp.lazy import np

WEBB = (-(1.5**0.5), -1.0, -(0.5**0.5), 0.5**0.5, 1.0, 1.5**0.5)  # the six-point distribution


def webb_weights(n_draws: int, n_clusters: int, seed: int) -> np.ndarray:
    """B x G Webb weights from a seeded generator."""
    rng = np.random.default_rng(seed)
    return np.array(WEBB)[rng.integers(0, 6, size=(n_draws, n_clusters))]


@dataclass(frozen=True)
class BootstrapTest:
    """Bootstrap t statistics of one coefficient as a function of the tested value b0."""

    coef: float
    se: float  # CRV1, the same scaling as the bootstrap statistics
    n0: np.ndarray  # numerator(b0) = n0 - b0 * n1 per draw
    n1: np.ndarray
    d00: np.ndarray  # denominator^2(b0) = d00 - 2 b0 d01 + b0^2 d11 per draw (scaled)
    d01: np.ndarray
    d11: np.ndarray

    def t_obs(self, b0: float) -> float:
        """The sample's t statistic for H0: coef = b0."""
        return (self.coef - b0) / self.se

    def t_boot(self, b0: float) -> np.ndarray:
        """The bootstrap t statistics for H0: coef = b0 (that null imposed)."""
        denominator = self.d00 - 2.0 * b0 * self.d01 + b0 * b0 * self.d11
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self.n0 - b0 * self.n1) / np.sqrt(np.maximum(denominator, 0.0))

    def share_above(self, b0: float) -> float:
        """Share of bootstrap t at or above the sample's t (one-sided p for coef > b0)."""
        return float(np.mean(self.t_boot(b0) >= self.t_obs(b0)))

    def share_below(self, b0: float) -> float:
        """Share of bootstrap t at or below the sample's t (one-sided p for coef < b0)."""
        return float(np.mean(self.t_boot(b0) <= self.t_obs(b0)))

    def p_value(self, b0: float = 0.0) -> float:
        """Equal-tailed two-sided p-value: 2 min(P*(t* <= t), P*(t* >= t)), each share at
        least 1 / (B + 1): B draws cannot show a smaller p, and a p of exactly 0 is a claim
        of certainty no resampling makes."""
        floor = 1.0 / (len(self.n0) + 1)
        return min(1.0, 2.0 * max(min(self.share_above(b0), self.share_below(b0)), floor))

    def interval(self, level: float) -> tuple[float, float]:
        """Confidence interval by inverting the equal-tailed test (bisection on each side)."""
        tail = (1.0 - level) / 2.0
        low = self._bound(lambda b0: self.share_above(b0) - tail, -1.0)
        high = self._bound(lambda b0: self.share_below(b0) - tail, +1.0)
        return low, high

    def _bound(self, excess, side: float) -> float:
        # excess(b0) >= 0 inside the interval (near coef) and < 0 far out on `side`.
        inside, reach = self.coef, 4.0 * self.se
        outside = self.coef + side * reach
        for _ in range(12):  # widen until the far end is rejected
            if excess(outside) < 0:
                break
            inside, reach = outside, reach * 2.0
            outside = self.coef + side * reach
        else:
            return float(side * np.inf)
        for _ in range(60):  # the p-value is a step function: stop at a tenth of an SE / 2^k
            middle = 0.5 * (inside + outside)
            if excess(middle) >= 0:
                inside = middle
            else:
                outside = middle
            if abs(outside - inside) <= 1e-6 * self.se:
                break
        return float(0.5 * (inside + outside))


def _restricted(x_abs: np.ndarray, j: int, v: np.ndarray) -> np.ndarray:
    """Residual of v on the absorbed candidates other than j (v already absorbed)."""
    others = np.delete(x_abs, j, axis=1)
    if others.shape[1] == 0:
        return v.copy()
    coef, *_ = np.linalg.lstsq(others, v, rcond=None)
    return v - others @ coef


def bootstrap_test(
    y_abs: np.ndarray,
    x_abs: np.ndarray,
    j: int,
    rep_codes: np.ndarray,
    n_reps: int,
    period_codes: np.ndarray | None,
    n_periods: int,
    n_params: int,
    weights: np.ndarray,
) -> BootstrapTest:
    """The restricted wild cluster bootstrap of coefficient j of y_abs on x_abs (absorbed).

    `n_params` counts the coefficients and absorbed dummies (the CRV1 (N-1)/(N-K) factor);
    `weights` is B x G (webb_weights). Matches the bootstrap of the dummy regression.
    """
    n = y_abs.shape[0]
    g = n_reps
    bread = np.linalg.inv(x_abs.T @ x_abs)
    coef = bread @ (x_abs.T @ y_abs)
    z = x_abs @ bread[:, j]  # coefficient j = z' y for any y in the absorbed space
    resid = y_abs - x_abs @ coef
    scale = g / (g - 1.0) * (n - 1.0) / (n - n_params)
    se = float(np.sqrt(scale * np.sum(group_sums(rep_codes, z * resid, g) ** 2)))

    # Restricted residuals at b0: u0 - b0 * u1.
    u = np.column_stack([_restricted(x_abs, j, y_abs), _restricted(x_abs, j, x_abs[:, j])])
    onehot = rep_codes[:, None] == np.arange(g)[None, :]
    pieces = np.concatenate([onehot * u[:, [0]], onehot * u[:, [1]]], axis=1)  # n x 2G
    if period_codes is not None:
        pieces = absorb(pieces, rep_codes, g, period_codes, n_periods).resid
    # Residuals of the bootstrap regression per unit weight on rep h: M_X of each piece.
    pieces = pieces - x_abs @ (bread @ (x_abs.T @ pieces))
    scores = group_sums(rep_codes, z[:, None] * pieces, g)  # G x 2G: rep g's score, weight h
    a = group_sums(rep_codes, z[:, None] * u, g)  # G x 2: numerator contributions
    n0, n1 = weights @ a[:, 0], weights @ a[:, 1]
    p0, p1 = weights @ scores[:, :g].T, weights @ scores[:, g:].T  # B x G
    return BootstrapTest(
        coef=float(coef[j]),
        se=se,
        n0=n0,
        n1=n1,
        d00=scale * np.einsum("bg,bg->b", p0, p0),
        d01=scale * np.einsum("bg,bg->b", p0, p1),
        d11=scale * np.einsum("bg,bg->b", p1, p1),
    )
