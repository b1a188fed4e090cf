// Every page's htmx history: a request that lands on the address already shown (Enter twice in
// the list's search, "Apply filters" after a choice that already applied, the active card or the
// dashboard's current period clicked again) replaces the history entry rather than pushing a copy
// of it, so one Back always leaves what is on screen. Loaded by base.html, beside htmx itself.
(function () {
  "use strict";

  document.addEventListener("htmx:beforeHistoryUpdate", function (event) {
    const update = event.detail.history;
    if (!update || update.type !== "push") return;
    const next = new URL(update.path, window.location.href);
    if (next.pathname + next.search === window.location.pathname + window.location.search) {
      update.type = "replace";
    }
  });
})();
