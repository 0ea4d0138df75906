// A question before a one-way review action (submit, share, finalise): a button with
// data-confirm="..." opens a native <dialog>; confirming posts the form with confirm=1, which the
// server takes as the answer (without script it asks on a page of its own instead).
// Forms with data-confirm (delete buttons) keep app.js's window.confirm.
"use strict";

(function () {
  var dialog, text, pending;

  function build() {
    dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("data-testid", "confirm-dialog");
    dialog.setAttribute("aria-labelledby", "confirm-dialog-text");
    text = document.createElement("p");
    text.id = "confirm-dialog-text";
    var form = document.createElement("form");
    form.method = "dialog";
    form.className = "actions";
    [["confirm", "Confirm", "button primary"], ["cancel", "Go back", "button"]].forEach(function (b) {
      var button = document.createElement("button");
      button.value = b[0];
      button.textContent = b[1];
      button.className = b[2];
      form.appendChild(button);
    });
    dialog.appendChild(text);
    dialog.appendChild(form);
    dialog.addEventListener("close", function () {
      var go = pending;
      pending = null;
      if (go && dialog.returnValue === "confirm") { go(); }
    });
    document.body.appendChild(dialog);
  }

  function hidden(form, name, value) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = button && button.getAttribute && button.getAttribute("data-confirm");
    if (!question || form.hasAttribute("data-confirmed")) { return; }
    event.preventDefault();
    var go = function () {
      hidden(form, "confirm", "1");
      if (button.name) { hidden(form, button.name, button.value); }
      form.setAttribute("data-confirmed", "");
      HTMLFormElement.prototype.submit.call(form);
    };
    if (!window.HTMLDialogElement) {
      if (window.confirm(question)) { go(); }
      return;
    }
    if (!dialog) { build(); }
    text.textContent = question;
    dialog.returnValue = "";
    pending = go;
    dialog.showModal();
  });
})();
