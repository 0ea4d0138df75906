// A long checkbox list (the checklist macro in templates/_macros/forms.html) gets a box that
// narrows it as you type. Without this script it is the plain list, scrolling in its fieldset.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-checklist]").forEach(function (list) {
    var filter = list.querySelector("[data-checklist-filter]");
    var none = list.querySelector("[data-checklist-none]");
    var count = list.querySelector("[data-checklist-count]");
    var items = Array.prototype.slice.call(list.querySelectorAll("li"));
    if (!filter || !items.length) { return; }

    function update() {
      var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      var ticked = 0;
      items.forEach(function (item) {
        var box = item.querySelector("input[type=checkbox]");
        var text = item.textContent.toLowerCase();
        var match = words.every(function (word) { return text.indexOf(word) !== -1; });
        // A ticked one stays in view, so that narrowing never hides what is chosen.
        item.hidden = !(match || (box && box.checked));
        if (!item.hidden) { shown += 1; }
        if (box && box.checked) { ticked += 1; }
      });
      if (none) { none.hidden = shown > 0; }
      if (count) {
        count.textContent = ticked === 0 ? "None ticked." : ticked + " ticked.";
      }
    }

    filter.hidden = false;
    filter.addEventListener("input", update);
    list.addEventListener("change", update);
    // Enter in the box would submit the whole form: it only narrows the list.
    filter.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }
    });
    update();
  });
});
