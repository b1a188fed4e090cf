// The dispatch board: drag and drop with SortableJS (static/vendor/sortablejs-1.15.7). Every
// drop posts to the same views as the list's dialogs (Assign, Reassign, Reschedule) with the
// card's version; the server decides. A refusal puts the card back and its sentence goes to the
// page's polite live region; a conflict is asked about ("Assign anyway") and re-posted with
// confirm_conflict=1. Without JavaScript, or without dragging, every card's buttons open the same
// dialogs (portal.js) or pages.
// Live updates (live.js) swap cells and cards that others changed: the lists a drag started in or
// hovers are held (data-live-hold) until the drop and its redraw are over, swapped-in lists get
// their Sortable, and a dialog opened from a card that was swapped gives the focus back to the
// card's new self; so does the board drawn again after a dialog's action (the card's new place).
(function () {
  "use strict";

  if (typeof window.Sortable === "undefined") return;

  function announce(text, isError) {
    window.portalFlash.say(text, isError ? "error" : "success");
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function dayText(iso) {
    const parts = iso.split("-").map(Number);
    const day = new Date(parts[0], parts[1] - 1, parts[2]);
    return day.toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short" });
  }

  // The sentence a refusal carries: the row's alert (409), the dialog's errors (422).
  function sentenceOf(html) {
    const doc = new DOMParser().parseFromString(html, "text/html");
    const found = doc.querySelectorAll(
      ".row-alert, .alert, .error-summary, .errorlist li, [role=alert]"
    );
    const texts = [];
    found.forEach(function (node) {
      const text = node.textContent.replace(/\s+/g, " ").trim();
      if (text && texts.every(function (t) { return t.indexOf(text) === -1; })) texts.push(text);
    });
    return { doc: doc, text: texts.join(" ") };
  }

  function confirmationOf(response) {
    const header = response.headers.get("HX-Trigger");
    if (!header) return "";
    try {
      const events = JSON.parse(header);
      for (const name in events) {
        if (events[name] && events[name].message) return events[name].message;
      }
    } catch (error) {
      return "";
    }
    return "";
  }

  async function post(url, fields) {
    const body = new URLSearchParams();
    Object.keys(fields).forEach(function (key) {
      if (fields[key] !== undefined && fields[key] !== null) body.append(key, fields[key]);
    });
    const response = await fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: {
        "X-CSRFToken": csrfToken(),
        "HX-Request": "true",
        "HX-Current-URL": window.location.href,
      },
    });
    return { status: response.status, ok: response.ok, html: await response.text(), message: confirmationOf(response) };
  }

  // "Assign anyway?": resolves true or false. The dialog returns the focus to the card.
  function askToConfirm(text, label) {
    const dialog = document.getElementById("board-confirm");
    if (!dialog) return Promise.resolve(false);
    dialog.querySelector("#board-confirm-text").textContent = text;
    dialog.querySelector("[data-confirm=yes]").textContent = label;
    return new Promise(function (resolve) {
      function done(answer) {
        dialog.removeEventListener("click", onClick);
        dialog.removeEventListener("close", onClose);
        if (dialog.open) dialog.close();
        resolve(answer);
      }
      function onClick(event) {
        const button = event.target.closest("[data-confirm]");
        if (button) done(button.dataset.confirm === "yes");
      }
      function onClose() { done(false); }
      dialog.addEventListener("click", onClick);
      dialog.addEventListener("close", onClose);
      dialog.showModal();
      dialog.querySelector("[data-confirm=yes]").focus();
    });
  }

  function actionUrl(card, name) {
    const form = card.querySelector("form[data-action=" + name + "]");
    return form ? form.getAttribute("action") : null;
  }

  // A drop asking for an action the card does not offer: the server's sentence for it, which
  // the card carries (cards.py), so that the board never words a refusal of its own.
  function refusalOf(card, name) {
    return card.getAttribute("data-refused-" + name) || "The board is out of date: reload it and try again.";
  }

  // One step of a drop: POST, and on a conflict ask and post again with confirm_conflict=1.
  async function runStep(step, version) {
    const fields = Object.assign({ version: String(version), target: "row", next: window.location.pathname + window.location.search }, step.fields);
    let answer = await post(step.url, fields);
    let refusal = answer.ok ? null : sentenceOf(answer.html);
    if (answer.status === 409 && refusal.doc.querySelector("[name=confirm_conflict]")) {
      const label = refusal.doc.querySelector("[name=confirm_conflict]").closest("form");
      const button = label && label.querySelector("button[type=submit], button:not([type])");
      const yes = await askToConfirm(refusal.text, button ? button.textContent.trim() : "Go ahead anyway");
      if (!yes) return { ok: false, text: "Nothing was changed.", quiet: true };
      fields.confirm_conflict = "1";
      answer = await post(step.url, fields);
      refusal = answer.ok ? null : sentenceOf(answer.html);
    }
    if (answer.ok) return { ok: true, text: answer.message };
    return { ok: false, text: (refusal && refusal.text) || "The board is out of date: reload it and try again." };
  }

  function refreshBoard() {
    const board = document.getElementById("board");
    if (!board || !window.htmx) return Promise.resolve();
    // htmx carries an element's old attributes over to its new self while settling; a style
    // SortableJS left on a card would then be an inline style, which the CSP refuses.
    board.querySelectorAll("[style]").forEach(function (node) { node.removeAttribute("style"); });
    // Rows that arrived as they scrolled into view are drawn again with the others.
    const url = new URL(window.location.href);
    if (!document.getElementById("board-more-rows")) url.searchParams.set("rows", "all");
    return window.htmx.ajax("GET", url.pathname + url.search, {
      source: board,
      target: "#board",
      swap: "outerHTML",
    });
  }

  // The page's other handymen arrive when their row scrolls into view. A keyboard user whose
  // focus was on the link that stands for them goes on from the first of them.
  let lastRowBeforeMore = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    const more = event.detail.target;
    lastRowBeforeMore = more && more.id === "board-more-rows" && more.contains(document.activeElement)
      ? more.previousElementSibling
      : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!lastRowBeforeMore) return;
    const first = lastRowBeforeMore.nextElementSibling;
    lastRowBeforeMore = null;
    const target = first && first.querySelector("a[href], button");
    if (target) target.focus();
  });

  function putBack(evt) {
    const from = evt.from;
    from.insertBefore(evt.item, from.children[evt.oldIndex] || null);
  }

  async function onDrop(evt) {
    const card = evt.item;
    const to = evt.to;
    if (to === evt.from) return;
    const status = card.dataset.status;
    const targetHandyman = to.dataset.handyman || "";
    const day = to.dataset.day;
    const start = to.dataset.windowStart || card.dataset.windowStart;
    const end = to.dataset.windowEnd || card.dataset.windowEnd;
    if (to.hasAttribute("data-day-off")) {
      putBack(evt);
      announce(to.dataset.handymanName + " is off on " + dayText(day) + ": choose another day or another handyman.", true);
      return;
    }
    const steps = [];
    const moved = day !== card.dataset.day || start !== card.dataset.windowStart || end !== card.dataset.windowEnd;
    if (moved) {
      const url = actionUrl(card, "reschedule");
      if (!url) {
        putBack(evt);
        announce(refusalOf(card, "reschedule"), true);
        return;
      }
      // The Reschedule form's fields: the date and the window's key ("08:00-10:00").
      steps.push({ url: url, fields: { scheduled_date: day, window: start + "-" + end } });
    }
    const otherHandyman = targetHandyman && targetHandyman !== card.dataset.handyman;
    if (moved && otherHandyman) {
      // One change on the server: the new handyman's day and conflicts on the new slot, and
      // either both the move and the assignment or neither.
      steps[0].fields.handyman = targetHandyman;
      steps[0].writes = 2;
    } else if (otherHandyman) {
      const name = status === "SCHEDULED" ? "assign" : "reassign";
      const url = actionUrl(card, name);
      if (!url) {
        putBack(evt);
        announce(refusalOf(card, name), true);
        return;
      }
      steps.push({ url: url, fields: { handyman: targetHandyman } });
    }
    if (!steps.length) {
      putBack(evt);
      return;
    }
    card.classList.add("is-busy");
    card.setAttribute("aria-busy", "true");
    let version = Number(card.dataset.version);
    const said = [];
    let changed = false;
    for (const step of steps) {
      let result;
      try {
        result = await runStep(step, version);
      } catch (error) {
        // No answer: the request may have reached the server (only the answer lost), so the
        // board cannot say that nothing changed. The live feed shows where the job really is.
        result = {
          ok: false,
          text: "The board lost the connection before the server answered: the move may or may " +
            "not have been made. The card shows where the job is once the connection is back.",
        };
      }
      if (!result.ok) {
        card.classList.remove("is-busy");
        card.removeAttribute("aria-busy");
        putBack(evt);
        announce([...said, result.text].join(" "), !result.quiet);
        if (changed) await refreshBoard();
        return;
      }
      // Each write bumps the version by one: the next step expects exactly ours.
      version += step.writes || 1;
      changed = true;
      if (result.text) said.push(result.text);
    }
    card.dataset.version = String(version);
    announce(said.join(" ") || "Done.", false);
    await refreshBoard();
  }

  // --- Live updates around a drag ---------------------------------------------------------------

  const held = new Set();

  function holdList(list) {
    if (!list || held.has(list)) return;
    held.add(list);
    list.setAttribute("data-live-hold", "");
  }

  function release() {
    held.forEach(function (list) { list.removeAttribute("data-live-hold"); });
    held.clear();
    document.dispatchEvent(new CustomEvent("live:release"));
  }

  // The card whose button opened the dialog, to give the focus back to if live.js swapped it.
  let opened = null;
  document.addEventListener("submit", function (event) {
    const form = event.target;
    // The dialog's own form (the action itself) still answers for the card that opened it.
    if (form instanceof HTMLFormElement && form.closest("#action-dialog")) return;
    const card = form instanceof HTMLFormElement && form.hasAttribute("data-opens-dialog")
      ? form.closest(".board .job[id^='card-']")
      : null;
    opened = card ? { card: card.id, action: form.dataset.action } : null;
  }, true);
  // Given back for a moment after the close: a held swap of that card (live.js flushes what
  // it held once the focus leaves the dialog) may replace it just after the focus came back.
  let returning = null;
  function giveFocusBack() {
    if (!returning || Date.now() > returning.until) { returning = null; return; }
    const active = document.activeElement;
    // Nothing has the focus, or a control of the dialog that just closed still holds it (the
    // browser moves it out a moment later): anything else the user chose is left alone.
    const lost = !active || active === document.body || active.closest("dialog:not([open])");
    if (!lost) return;
    const card = document.getElementById(returning.card);
    if (!card) return;
    const target = card.querySelector("form[data-action='" + returning.action + "'] button") ||
      card.querySelector("a[href]");
    if (target) target.focus();
  }
  document.addEventListener("close", function (event) {
    if (!opened || !event.target.matches || !event.target.matches("#action-dialog")) return;
    returning = { card: opened.card, action: opened.action, until: Date.now() + 2000 };
    opened = null;
    window.setTimeout(giveFocusBack, 0);
  }, true);
  // Only while nothing else has the focus: what the user moved to is never taken away.
  document.addEventListener("live:swapped", function () { window.setTimeout(giveFocusBack, 0); });

  // A done action is answered with the board drawn again (HX-Refresh, or HX-Redirect to it):
  // a new page, whose focus would start at its top. This tab's next page gives it back to the
  // card, in its new place (a short-lived note: a board opened later is left alone).
  const FOCUS_NOTE = "board:focus-after-action";
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    const xhr = event.detail.xhr;
    const elt = event.detail.elt;
    if (!opened || !xhr || !elt || !elt.closest || !elt.closest("#action-dialog")) return;
    if (xhr.getResponseHeader("HX-Refresh") !== "true" && !xhr.getResponseHeader("HX-Redirect")) return;
    try {
      window.sessionStorage.setItem(FOCUS_NOTE, JSON.stringify(
        { card: opened.card, action: opened.action, until: Date.now() + 10000 }
      ));
    } catch (error) { /* no storage: the focus starts at the top, as without this */ }
  });
  function focusAfterAction() {
    let note = null;
    try {
      note = JSON.parse(window.sessionStorage.getItem(FOCUS_NOTE) || "null");
      window.sessionStorage.removeItem(FOCUS_NOTE);
    } catch (error) { return; }
    if (!note || Date.now() > note.until) return;
    returning = { card: note.card, action: note.action, until: Date.now() + 2000 };
    giveFocusBack();
  }

  // On a phone a day is a screen wide: the week opens on today's column (beside the sticky
  // names), not on Monday's; today's day view on its first window not yet over (is-now), not on
  // 08:00–10:00. Only when the board scrolls sideways; the page's own scroll is left.
  function showToday() {
    const scroller = document.querySelector(".board-scroll");
    const today = scroller &&
      (scroller.querySelector("thead th.is-now") || scroller.querySelector("thead th.is-today"));
    if (!today || scroller.scrollWidth <= scroller.clientWidth) return;
    const names = scroller.querySelector("thead th");
    scroller.scrollLeft = today.offsetLeft - (names ? names.offsetWidth : 0);
  }

  function init(root) {
    (root || document).querySelectorAll(".board[data-acting] .cell-jobs").forEach(function (list) {
      if (list.dataset.sortable) return;
      list.dataset.sortable = "1";
      const lane = list.hasAttribute("data-lane");
      window.Sortable.create(list, {
        group: {
          name: "board",
          pull: true,
          // Only a job without a handyman goes back to the lane (to another day); nothing
          // unassigns a job.
          put: lane ? function (to, from, dragged) { return !dragged.dataset.handyman; } : true,
        },
        sort: false,
        draggable: ".job[data-draggable]",
        filter: "a, button, input",
        preventOnFilter: false,
        // Touch: a long press starts a drag, so that a swipe still scrolls the board.
        delay: 200,
        delayOnTouchOnly: true,
        onStart: function (evt) { holdList(evt.from); },
        onMove: function (evt) { holdList(evt.to); },
        onEnd: function (evt) {
          onDrop(evt).catch(function () {}).then(release);
        },
      });
    });
  }

  document.addEventListener("htmx:afterSettle", function () { init(document); });
  document.addEventListener("live:swapped", function (event) { init(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      init(document);
      showToday();
      focusAfterAction();
    });
  } else {
    init(document);
    showToday();
    focusAfterAction();
  }
})();
