// The list's bulk bar. Without JavaScript it is a plain form that is always shown: the row boxes
// belong to it (form="bulk-form") and the server refuses, with reasons, the rows that do not
// allow the action. Here it appears only while rows are ticked, counts them, offers only the
// actions EVERY ticked row allows (each box carries its row's actions from the state machine),
// adds "select all on this page", and says the result in the page's polite live region.
(function () {
  "use strict";

  function bar() {
    return document.querySelector("[data-bulk-bar]");
  }

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll("input[data-bulk-row]"));
  }

  function actionsOf(box) {
    return (box.getAttribute("data-actions") || "").split(" ").filter(Boolean);
  }

  function label(name) {
    return name.charAt(0).toUpperCase() + name.slice(1);
  }

  function update(announce) {
    const form = bar();
    if (!form) return;
    const all = boxes();
    const ticked = all.filter(function (box) { return box.checked; });
    const max = parseInt(form.getAttribute("data-bulk-max"), 10) || 100;

    // The actions every ticked row allows.
    let common = null;
    ticked.forEach(function (box) {
      const mine = actionsOf(box);
      common = common === null ? mine : common.filter(function (n) { return mine.indexOf(n) >= 0; });
    });
    common = common || [];
    const offered = [];
    form.querySelectorAll("[data-bulk-action]").forEach(function (group) {
      const name = group.getAttribute("data-bulk-action");
      const open = name === "export" || common.indexOf(name) >= 0;
      group.hidden = !open;
      if (open) offered.push(label(name));
    });
    // Export suits every row: say why nothing else is offered rather than hide it silently.
    const none = form.querySelector("[data-bulk-none]");
    if (none) none.hidden = offered.some(function (name) { return name !== "Export"; });

    // The bar stays while it shows an error, so that the sentence is not lost.
    form.hidden = ticked.length === 0 && !document.getElementById("bulk-errors");
    let text = ticked.length + " selected";
    if (ticked.length > max) text += ": at most " + max + " can be changed at a time";
    const count = form.querySelector("[data-bulk-count]");
    if (count) count.textContent = text + ".";

    // The table head's box and, for a phone, the bar's.
    document.querySelectorAll("[data-bulk-all]").forEach(function (every) {
      every.checked = all.length > 0 && ticked.length === all.length;
      every.indeterminate = ticked.length > 0 && ticked.length < all.length;
    });
    const live = document.querySelector("[data-bulk-live]");
    if (live && announce) {
      live.textContent = ticked.length
        ? text + ". " + (offered.length ? "Actions: " + offered.join(", ") + "." : "No common action.")
        : "Nothing selected.";
    }
  }

  // On a phone or a tablet (bulk.css's same 64rem) the bar is one line (the count and
  // "Actions"): its actions start closed, except after an error the person must correct there.
  // On a desktop they are always open, beside the count (bulk.css hides the summary). A bar the
  // server just drew is fitted once: a later swap elsewhere on the page (the cards' refresh)
  // must not close what the person opened.
  const narrow = window.matchMedia("(max-width: 64rem)");

  function fitMenu(force) {
    const menu = document.querySelector("[data-bulk-menu]");
    if (!menu || (menu.hasAttribute("data-fitted") && !force)) return;
    menu.setAttribute("data-fitted", "");
    menu.open = !narrow.matches || Boolean(document.getElementById("bulk-errors"));
  }

  narrow.addEventListener("change", function () { fitMenu(true); });

  function enhance() {
    document.querySelectorAll("[data-bulk-all-wrap]").forEach(function (el) { el.hidden = false; });
    document.querySelectorAll("[data-bulk-no-js]").forEach(function (el) { el.hidden = true; });
    const form = bar();
    if (form) form.setAttribute("data-bulk-enhanced", "");
    fitMenu(false);
    update(false);
  }

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (!(target instanceof HTMLInputElement)) return;
    if (target.hasAttribute("data-bulk-all")) {
      boxes().forEach(function (box) { box.checked = target.checked; });
      update(true);
    } else if (target.hasAttribute("data-bulk-row")) {
      update(true);
    }
  });

  // The answer to the bar replaced the list: focus its result, so that keyboard and screen
  // reader users land on what happened (the refused rows are listed there, and still ticked).
  document.addEventListener("htmx:afterSwap", function (event) {
    enhance();
    const source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!source || !source.closest || !source.closest("[data-bulk-bar]")) return;
    const alert = document.getElementById("bulk-errors");
    const result = document.getElementById("bulk-result");
    if (alert) alert.focus();
    else if (result) result.focus();
  });

  // A row the live feed swapped keeps its tick (live.js) but may allow other actions now.
  document.addEventListener("live:swapped", function () { update(false); });

  // The summary ("28 assigned to Hank Silva; 2 not changed") in the one polite live region.
  document.addEventListener("bulk-done", function (event) {
    if (event.detail && event.detail.message) window.portalFlash.say(event.detail.message);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhance);
  } else {
    enhance();
  }
})();
