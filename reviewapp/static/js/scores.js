// Live scores on the review page: as the manager changes a rating, the competency and overall
// scores, the divergence hint and "3 of 5 competencies rated" follow before saving. The same
// formula as reviewapp/reviews/scoring.py combine(); the server stays the authority (it
// recomputes on every save and refuses a divergent submission without a note).
"use strict";

(function () {
  // scoring.py's SCORE_DECIMALS: a score is read at 9 decimals before it is compared or rounded
  // (0.3 * 4 + 0.7 * 3 is 3.2999999999999998 in binary, 3.30 on the page).
  function settle(value) { return Math.round(value * 1e9) / 1e9; }

  // format_score(): two decimals, halves up, on the decimal figure (1.325 reads 1.33).
  function formatScore(value) {
    if (value === null) { return "\u2014"; }
    var hundredths = Math.round(Number((settle(value) * 100).toFixed(6)));
    return (hundredths / 100).toFixed(2);
  }

  function combine(quant, qual, weight) {
    if (quant !== null && qual !== null) {
      return {overall: weight * quant + (1 - weight) * qual, renormalised: false,
              divergence: Math.abs(quant - qual)};
    }
    if (quant !== null) { return {overall: quant, renormalised: true, divergence: null}; }
    if (qual !== null) { return {overall: qual, renormalised: true, divergence: null}; }
    return {overall: null, renormalised: false, divergence: null};
  }

  function ratingsOf(form) {
    var groups = {};
    form.querySelectorAll("input[type=radio]").forEach(function (input) {
      if (!/_rating_\d+$/.test(input.name)) { return; }
      if (!(input.name in groups)) { groups[input.name] = null; }
      if (input.checked) { groups[input.name] = Number(input.value); }
    });
    return Object.keys(groups).map(function (name) { return groups[name]; });
  }

  function show(element, visible) {
    if (element) { element.hidden = !visible; }
  }

  function updateProgress(form) {
    var progress = form.querySelector("[data-rating-progress] [data-rated]");
    if (!progress) { return; }
    progress.textContent = String(ratingsOf(form).filter(function (r) {
      return r !== null;
    }).length);
  }

  function updateScores(form, panel) {
    var ratings = ratingsOf(form).filter(function (r) { return r !== null; });
    var qual = ratings.length ? ratings.reduce(function (a, b) { return a + b; }, 0) /
      ratings.length : null;
    var quant = panel.dataset.quant === "" ? null : Number(panel.dataset.quant);
    var weight = Number(panel.dataset.weight);
    var threshold = Number(panel.dataset.threshold);
    var result = combine(quant, qual, weight);
    var side = quant !== null && qual === null ? "(KPIs only)"
      : qual !== null && quant === null ? "(competencies only)" : "";
    panel.querySelector("[data-testid=qual-score]").textContent = formatScore(qual);
    panel.querySelector("[data-testid=overall-score]").textContent = formatScore(result.overall);
    panel.querySelector("[data-testid=overall-side]").textContent = side;
    show(panel.querySelector("[data-renormalised]"), result.renormalised);
    show(panel.querySelector("[data-weighted]"), !result.renormalised && result.overall !== null);
    var divergent = result.divergence !== null && settle(result.divergence) >= threshold;
    show(panel.querySelector("[data-testid=divergence]"), divergent);
    var amount = panel.querySelector("[data-divergence]");
    if (amount && divergent) { amount.textContent = formatScore(result.divergence); }
    show(panel.querySelector("[data-live-note]"), true);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var panel = document.querySelector("[data-live-scores]");
    document.querySelectorAll("form[data-rating-form]").forEach(function (form) {
      form.addEventListener("change", function (event) {
        if (!/_rating_\d+$/.test(event.target.name || "")) { return; }
        updateProgress(form);
        if (panel && form.dataset.ratingForm === "manager") { updateScores(form, panel); }
      });
    });
  });
})();
