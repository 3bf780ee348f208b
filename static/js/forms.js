/* Small helpers for the entry forms (an external file: the CSP allows no inline scripts). */
(function () {
  "use strict";
  // Wave entry: a carried-forward suggestion the researcher edits is no longer "from T…".
  document.querySelectorAll(".entry-row.suggested input, .entry-row.suggested select").forEach(function (el) {
    el.addEventListener("input", function () {
      var row = el.closest(".entry-row");
      row.classList.remove("suggested");
      row.classList.add("changed");
      var badge = row.querySelector(".badge.suggested");
      if (badge) { badge.remove(); }
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
