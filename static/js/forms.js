/* Small helpers for the entry forms (an external file: the CSP allows no inline scripts). */
(function () {
  "use strict";
  // Every form: the error summary takes the focus, so a screen reader reads it first.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  // Wave entry: "confirm all" of a section ticks each suggestion of that section.
  document.querySelectorAll(".confirm-all input[type=checkbox]").forEach(function (all) {
    all.addEventListener("change", function () {
      all.closest("fieldset").querySelectorAll(".suggestion input[type=checkbox]").forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });
  // A form sent once is not sent again by a second click (the server refuses a repeat too).
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
    });
  });
  // Contact: the request time only matters when the family asked.
  var box = document.getElementById("requested-at");
  if (box) {
    var sync = function () {
      var chosen = document.querySelector("input[name=initiated_by]:checked");
      box.hidden = !(chosen && chosen.value === "family");
    };
    document.querySelectorAll("input[name=initiated_by]").forEach(function (el) {
      el.addEventListener("change", sync);
    });
    sync();
  }
  // Contact: duration chips fill the number field.
  document.querySelectorAll(".chip[data-minutes]").forEach(function (chip) {
    chip.addEventListener("click", function () {
      var input = document.getElementById(chip.closest(".quick").dataset.target);
      input.value = chip.dataset.minutes;
      document.querySelectorAll(".chip[data-minutes]").forEach(function (c) { c.classList.remove("on"); });
      chip.classList.add("on");
    });
  });
})();
