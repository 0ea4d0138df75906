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
