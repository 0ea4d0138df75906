// ReviewApp's only script, served from our origin so that the Content-Security-Policy can forbid
// inline code. Everything works without it; it adds a confirmation before destructive buttons.
"use strict";

// <form data-confirm="Question?">: ask before submitting (was an inline onsubmit handler).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form && form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
}, true);

// The error summary (GOV.UK pattern): focus it when the page loads, so a screen reader reads
// every problem first; a link in it focuses the field (a radio group's first input).
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) { return; }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href^='#']");
    var target = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!target) { return; }
    var input = target.matches("input, select, textarea") ? target
      : target.querySelector("input:checked, input, select, textarea");
    var details = target.closest("details");
    if (details) { details.open = true; }
    if (input) {
      event.preventDefault();
      target.scrollIntoView({block: "center"});
      input.focus({preventScroll: true});
    }
  });
});

// A table or code block wider than its box scrolls sideways; with no link or field inside, a
// keyboard could not reach it to scroll (WCAG 2.1.1), so it becomes a Tab stop while it overflows.
function markScrollRegions() {
  document.querySelectorAll(".scroll, pre, .table").forEach(function (box) {
    var owned = box.hasAttribute("data-scroll-region");
    if (!owned && box.hasAttribute("tabindex")) { return; }
    var overflows = box.scrollWidth > box.clientWidth + 1;
    var reachable = box.querySelector("a[href], button, input, select, textarea, [tabindex]");
    if (overflows && !reachable) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("data-scroll-region", "");
    } else if (owned) {
      box.removeAttribute("tabindex");
      box.removeAttribute("data-scroll-region");
    }
  });
}
document.addEventListener("DOMContentLoaded", markScrollRegions);
window.addEventListener("resize", markScrollRegions);

// A second click on a form's button while the first submission is on its way sends nothing:
// double-clicked, a template assigned to 100 reps made 200 goals, a check-in was recorded twice.
// (Disabling the button instead would drop its name and value from the submission.) A form that
// stays on the page, such as a download, can be sent again after a few seconds.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (event.defaultPrevented || !form || (form.method || "").toLowerCase() !== "post") { return; }
  if (form.hasAttribute("data-submitting")) {
    event.preventDefault();
    return;
  }
  form.setAttribute("data-submitting", "");
  window.setTimeout(function () { form.removeAttribute("data-submitting"); }, 5000);
});
// Back to a page kept by the browser (back button): its forms may be sent again.
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[data-submitting]").forEach(function (form) {
    form.removeAttribute("data-submitting");
  });
});
