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
