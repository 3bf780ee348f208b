// Polls the status of running analyses and imports and moves their progress bars; reloads when one ends.
(function () {
  const bars = document.querySelectorAll("progress[data-status-url]");
  bars.forEach(function (bar) {
    const tick = function () {
      fetch(bar.dataset.statusUrl, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          bar.value = s.progress;
          if (s.finished || s.status === "succeeded" || s.status === "failed") { window.location.reload(); }
          else { setTimeout(tick, 1500); }
        })
        .catch(function () { setTimeout(tick, 5000); });
    };
    tick();
  });
})();
