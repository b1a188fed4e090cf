// Every page's htmx history: a request that lands on the address already shown (Enter twice in
// the list's search, "Apply filters" after a choice that already applied, the active card or the
// dashboard's current period clicked again) replaces the history entry rather than pushing a copy
// of it, so one Back always leaves what is on screen; and signing out forgets what the tab kept.
// Loaded by base.html, beside htmx itself.
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

  // Signing out leaves nothing of this tab's browsing in its sessionStorage for the next person
  // at the browser: a list page htmx kept there before its history cache was switched off
  // (base.html), the address last shown (a search names a customer), the board's focus note.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-signs-out")) return;
    try {
      window.sessionStorage.clear();
    } catch (error) { /* no storage: nothing was kept */ }
  });
})();
