// An expected arrival on a page left open past its time (the handyman's card, the partner's
// record page): the server's other wording, drawn hidden beside it, takes its place, as a reload
// would say it. Every 30 seconds, by the server's clock: a phone whose clock is minutes (or
// hours) off would swap too early or too late. Each one carries the server's now when it was
// drawn (data-server-now); this device's clock minus that, taken as it arrives, is this device's
// lead on the server. A card drawn again later (htmx, a live update) carries its own moment.
(function () {
  "use strict";

  const leads = new WeakMap(); // element → this device's clock minus the server's, in ms

  // Taken on arrival: read later, the time it waited would count as lead (a late swap). A stamp
  // is read a little after it was drawn, never before: the swap may be late by that, not early.
  function note(root) {
    const now = Date.now();
    const found = Array.from(root.querySelectorAll("[data-expected-by]"));
    if (root.matches && root.matches("[data-expected-by]")) found.push(root);
    found.forEach(function (el) {
      if (leads.has(el)) return;
      const drawn = Date.parse(el.dataset.serverNow || "");
      leads.set(el, isNaN(drawn) ? 0 : now - drawn);
    });
  }

  function arrivalsDue() {
    note(document); // anything that arrived unseen (from now on)
    document.querySelectorAll("[data-expected-by]").forEach(function (el) {
      const by = Date.parse(el.dataset.expectedBy);
      const passed = el.nextElementSibling;
      if (isNaN(by) || Date.now() - leads.get(el) < by || !passed) return;
      passed.hidden = false;
      el.remove();
    });
  }

  note(document);
  document.addEventListener("htmx:load", function (event) { note(event.target); });
  document.addEventListener("live:swapped", function (event) { note(event.target); });
  window.setInterval(arrivalsDue, 30000);
})();
