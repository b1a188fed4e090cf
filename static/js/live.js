// Live updates: a page that carries #live-feed (data-live-url, data-live-stamp) asks the feed
// "what changed since my stamp?" every few seconds while it is visible. Nothing changed: a 304,
// nothing to do. Otherwise the page swaps the rows/cards it shows that changed, highlights them
// and says them in the polite live region. What the user is doing stays: an element that holds
// the focus, an open dialog or an edited form field is swapped only once the user has left it.
// Without JavaScript the page simply does not update by itself.
// A page with too many records to list in every question (the board: data-live-locate) sends
// none; when something changed the feed answers `locate` (the ids it needs placed) and the page
// asks again at once with where just those sit. An element marked data-live-hold (a list being
// dragged from or to) waits like a focused one; `live:release` on the document says it is free.
// Each swapped-in element gets a `live:swapped` event (the board re-arms its drag and drop).
// A box marked data-live-keep (the list's bulk selection) does not hold its row back: the row
// is swapped at once and the new box takes its tick, so a ticked row shows what it is now.
// What the page cannot show in place ("N more now match", "reload") and a feed it cannot reach
// (offline, the server down or restarting, signed out: the page may be out of date) are said in
// the notices at the foot of the page, which stay in view (live.css) and are announced politely.
(function () {
  "use strict";

  const VISIBLE_MS = 2500; // changes appear within 5 s: one interval plus the request
  const HIDDEN_MS = 30000; // a hidden tab asks rarely, and at once when it is shown again
  const MAX_BACKOFF_MS = 60000;
  const HIGHLIGHT_MS = 2500;
  // On a van's weak signal one lost question, or a connection gone for a moment, is not news:
  // "may be out of date" is said from the second failed question in a row, or after the
  // connection has been gone this long (and "back" only after it was said).
  const QUIET_FAILURES = 2;
  const OFFLINE_GRACE_MS = 5000;

  // On Back, htmx puts the page back from its history cache by swapping the body, scripts and
  // all: this script runs again, for the page put back (its own #live-feed and stamp, from which
  // it catches up). The run before it stops, so that a page asks once, not once per Back.
  if (window.portalLive) window.portalLive.stop();
  window.portalLive = null;

  const feed = document.getElementById("live-feed");
  if (!feed || !feed.dataset.liveUrl || !window.fetch) return;

  let stopped = false;
  window.portalLive = {
    stop: function () {
      stopped = true;
      window.clearTimeout(timer);
      window.clearTimeout(offlineTimer);
    },
  };
  // This run's listeners, quiet once it is stopped.
  function on(target, type, handler, capture) {
    target.addEventListener(type, function (event) {
      if (!stopped) handler(event);
    }, capture);
  }

  let stamp = parseInt(feed.dataset.liveStamp || "0", 10) || 0;
  let timer = null;
  let inFlight = false;
  let failures = 0;
  const entered = new Set(); // changed records that now match the view but are not on the page
  let reloadAsked = false;
  let staleSaid = ""; // the sentence the page last said about its feed ("" while it follows)
  let offlineTimer = null;
  const pending = new Map(); // target id -> {part, el, news} waiting for the user to leave it
  const locating = feed.hasAttribute("data-live-locate");
  let locate = null; // the ids the feed asked this page to place (locating pages)

  function rowsOnPage() {
    const ids = [];
    if (locating && !locate) return "";
    document.querySelectorAll("[data-live-pk]").forEach(function (el) {
      if (locating && locate.indexOf(el.dataset.livePk) === -1) return;
      const where = el.dataset.liveWhere;
      const id = el.dataset.livePk + (where ? ":" + where : "");
      if (ids.indexOf(id) === -1) ids.push(id);
    });
    return ids.join(",");
  }

  function feedUrl() {
    const url = new URL(feed.dataset.liveUrl, window.location.href);
    url.searchParams.set("since", String(stamp));
    url.searchParams.set("from", window.location.pathname + window.location.search);
    url.searchParams.set("rows", rowsOnPage());
    if (locating && locate) url.searchParams.set("located", "1");
    return url.toString();
  }

  // --- What the user is doing ---------------------------------------------------------------

  function edited(el) {
    return Array.prototype.some.call(el.querySelectorAll("input, textarea, select"), function (f) {
      if (f.type === "hidden" || f.hasAttribute("data-live-keep")) return false;
      if (f.type === "checkbox" || f.type === "radio") return f.checked !== f.defaultChecked;
      if (f.tagName === "SELECT") {
        return Array.prototype.some.call(f.options, function (o) {
          return o.selected !== o.defaultSelected;
        });
      }
      return f.value !== f.defaultValue;
    });
  }

  function busy(el) {
    if (el.closest("[data-live-hold]") || el.querySelector("[data-live-hold]")) return true;
    const active = document.activeElement;
    if (active && active !== document.body && el.contains(active)) return true;
    if (el.querySelector("dialog[open]")) return true;
    return edited(el);
  }

  // --- Showing a change -----------------------------------------------------------------------

  function swap(el, html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const fresh = template.content.firstElementChild;
    if (!fresh) return null;
    el.querySelectorAll("[data-live-keep][id]").forEach(function (kept) {
      const twin = fresh.querySelector("#" + CSS.escape(kept.id));
      if (twin) twin.checked = kept.checked;
    });
    el.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
    fresh.dispatchEvent(new CustomEvent("live:swapped", { bubbles: true }));
    return fresh;
  }

  function highlight(pk) {
    document.querySelectorAll('[data-live-pk="' + pk + '"]').forEach(function (el) {
      el.classList.add("live-changed");
      window.setTimeout(function () { el.classList.remove("live-changed"); }, HIGHLIGHT_MS);
    });
  }

  // `what`: {text, link} (the link reloads the page) or {text, element} (a link of the page's
  // own, see showLink) or null; said in the live region when it says something new. A notice
  // that says the same again is left as it is (a focused link keeps the focus).
  function notice(what, selector, kind) {
    const box = feed.querySelector(selector || ".live-notice");
    if (!box) return;
    const before = box.hidden ? "" : box.textContent;
    if (!what) { box.textContent = ""; box.hidden = true; return; }
    const link = what.element || document.createElement("a");
    if (!what.element) {
      link.href = window.location.pathname + window.location.search;
      link.textContent = what.link;
    }
    if (before === what.text + " " + link.textContent) return;
    box.textContent = "";
    box.appendChild(document.createTextNode(what.text + " "));
    box.appendChild(link);
    if (what.element && window.htmx) window.htmx.process(link);
    box.hidden = false;
    window.portalFlash.say(what.text, kind || "info");
  }

  // Where "Show them" goes, when the page says (<template id="live-show"> holding the link with
  // its href and htmx attributes: the list's first page, last change first, same filters);
  // else the link reloads the page. Following it remembers which records it is to show.
  let showing = null; // {link, pks} while "Show them" is on its way
  function showLink() {
    const model = document.getElementById("live-show");
    const link = model && model.content && model.content.firstElementChild;
    if (!link) return null;
    const fresh = link.cloneNode(true);
    fresh.addEventListener("click", function () {
      showing = { link: fresh, pks: Array.from(entered) };
    });
    return fresh;
  }

  function enteredNotice() {
    if (reloadAsked) return; // the page is too far behind: "reload" says it all
    const n = entered.size;
    const text = n + (n === 1 ? " more installation now matches" : " more installations now match") + " this view.";
    notice(n ? { text: text, link: "Show them", element: showLink() } : null);
  }

  // The feed could not be followed (`why`: offline, unreachable, signedOut) or follows again
  // (null). Said once per change; coming back is said too, so that nobody keeps waiting.
  const STALE = {
    offline: { text: "You are offline: this page may be out of date. It catches up when the connection returns.", link: "Reload the page" },
    unreachable: { text: "The portal cannot be reached: this page may be out of date. Trying again.", link: "Reload the page" },
    signedOut: { text: "You are signed out: this page no longer updates.", link: "Sign in again" },
  };

  function stale(why) {
    const said = why ? STALE[why].text : "";
    if (said === staleSaid) return;
    const was = staleSaid;
    staleSaid = said;
    feed.dataset.liveState = why ? "stale" : "ok";
    notice(why ? STALE[why] : null, ".live-stale", "warning");
    if (!why && was) window.portalFlash.say("Live updates are back: this page is up to date.", "info");
  }

  // The connection is gone: say so if it is still gone after the grace.
  function offlineSoon() {
    if (offlineTimer) return;
    offlineTimer = window.setTimeout(function () {
      offlineTimer = null;
      if (navigator.onLine === false) stale("offline");
    }, OFFLINE_GRACE_MS);
  }

  // The version the page shows of an installation (0 if it shows none).
  function shownVersion(pk) {
    const el = document.querySelector('[data-live-pk="' + pk + '"][data-version]');
    return el ? parseInt(el.dataset.version, 10) || 0 : 0;
  }

  function flushPending() {
    pending.forEach(function (held, target) {
      const el = document.getElementById(target);
      // Gone, or replaced meanwhile by something newer (the page's own redraw): dropped.
      if (!el || el !== held.el) { pending.delete(target); return; }
      if (busy(el)) return;
      pending.delete(target);
      swap(el, held.part.html);
      held.news.forEach(highlight);
    });
  }

  function hold(part, el, news) {
    const pks = part.pks && part.pks.length ? part.pks : part.pk ? [part.pk] : [];
    pending.set(part.target, {
      part: part,
      el: el,
      news: pks.filter(function (pk) { return news.has(pk); }),
    });
  }

  // More news than this in one answer (a burst: a bulk action, a morning's catch-up) is said
  // as one sentence: a column of them pushed the page down by a screen or more on a phone.
  // Warnings (a job that left the handyman: he may be driving there) are always said one by one.
  const MAX_SAID = 3;

  function sayAll(news) {
    // Each at its level: a job that left the user (given to someone else, cancelled) is a
    // warning, the rest news.
    ["info", "warning"].forEach(function (kind) {
      const said = Array.from(news.values()).filter(function (c) { return (c.kind || "info") === kind; });
      if (kind === "info" && said.length > MAX_SAID) {
        window.portalFlash.say(said.length + " installations changed: they are highlighted.", kind);
        return;
      }
      window.portalFlash.say(said.map(function (c) { return c.say; }), kind);
    });
  }

  function apply(data) {
    if (data.reload) {
      reloadAsked = true;
      notice({ text: "Many changes happened while this page was away.", link: "Reload the page" });
      stamp = data.stamp;
      return;
    }
    // Only what the page does not show yet is news: a change it was drawn with (or already
    // received) is never swapped, highlighted or announced twice.
    const news = new Map();
    (data.changed || []).forEach(function (c) {
      if (c.version > shownVersion(c.pk)) news.set(c.pk, c);
    });
    (data.parts || []).forEach(function (part) {
      if (part.pk && !news.has(part.pk)) return;
      // A swap for several records (a board's cell) waits for none of them being news.
      if (part.pks && part.pks.length && !part.pks.some(function (pk) { return news.has(pk); })) return;
      const el = document.getElementById(part.target);
      if (!el) return;
      if (busy(el)) { hold(part, el, news); return; }
      pending.delete(part.target);
      swap(el, part.html);
    });
    news.forEach(function (c, pk) { highlight(pk); });
    sayAll(news);
    // Counted by id: a new job that changes again is still one; one that no longer matches
    // (or is now on the page) is no longer counted.
    (data.ids || []).forEach(function (pk) { entered.delete(pk); });
    (data.entered || []).forEach(function (pk) { entered.add(pk); });
    enteredNotice();
    stamp = data.stamp;
    feed.dataset.liveStamp = String(stamp);
  }

  // --- Asking ---------------------------------------------------------------------------------

  function delay() {
    if (failures) return Math.min(MAX_BACKOFF_MS, VISIBLE_MS * Math.pow(2, failures));
    return document.hidden ? HIDDEN_MS : VISIBLE_MS;
  }

  function schedule(ms) {
    window.clearTimeout(timer);
    timer = null;
    if (stopped) return;
    if (navigator.onLine === false) { offlineSoon(); return; } // `online` brings us back
    timer = window.setTimeout(poll, ms === undefined ? delay() : ms);
  }

  function poll() {
    if (inFlight) return;
    flushPending();
    inFlight = true;
    const asked = stamp;
    fetch(feedUrl(), {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (response.status === 304) return null;
        const type = response.headers.get("Content-Type") || "";
        // A login page (session ended) or an error is a failure: back off, never swap it in.
        if (!response.ok || type.indexOf("application/json") === -1) {
          const error = new Error("live feed: HTTP " + response.status);
          error.signedOut = response.ok; // the login page the feed was redirected to
          throw error;
        }
        return response.json();
      })
      .then(function (data) {
        if (stopped) return undefined;
        failures = 0;
        if (data && data.locate) {
          // Say where these sit, at once (the next question carries them).
          if (asked === stamp) locate = data.locate.map(String);
          return 0;
        }
        locate = null;
        // Stamp-ordered: an answer to an older question than the page's stamp is dropped.
        if (data && asked === stamp && data.stamp > stamp) apply(data);
        stale(null); // caught up
        return undefined;
      })
      .catch(function (error) {
        failures += 1;
        locate = null;
        if (error && error.signedOut) stale("signedOut");
        else if (navigator.onLine === false) offlineSoon();
        else if (failures >= QUIET_FAILURES) stale("unreachable");
      })
      .then(function (next) {
        inFlight = false;
        schedule(next);
      });
  }

  on(document, "visibilitychange", function () {
    // Back in view: catch up at once; hidden: the next question waits longer.
    schedule(document.hidden ? HIDDEN_MS : 0);
  });
  on(window, "online", function () {
    window.clearTimeout(offlineTimer);
    offlineTimer = null;
    failures = 0;
    schedule(0);
  });
  on(window, "offline", function () {
    window.clearTimeout(timer);
    timer = null;
    offlineSoon();
  });
  // The page went to another view in place (a filter, a page, "Show them", Back; htmx): what
  // it counted as matching the old view is not news for the new one, drawn just now.
  function newView() {
    entered.clear();
    enteredNotice();
  }
  on(document, "htmx:beforeHistoryUpdate", newView);
  on(document, "htmx:historyRestore", newView);
  // Once "Show them" brought them in: they are highlighted, and the first of them takes the
  // focus (the link went with its notice).
  on(document, "htmx:afterSettle", function (event) {
    const config = event.detail && event.detail.requestConfig;
    if (!showing || !config || config.elt !== showing.link) return;
    const rows = showing.pks.map(function (pk) {
      highlight(pk);
      return document.querySelector('[data-live-pk="' + pk + '"][tabindex]');
    }).filter(Boolean);
    showing = null;
    rows.sort(function (a, b) {
      return a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
    });
    if (rows.length) rows[0].focus();
  });

  // A change held back while the user was in it is shown once they leave it.
  on(document, "focusout", function () { window.setTimeout(flushPending, 0); });
  on(document, "close", function () { window.setTimeout(flushPending, 0); }, true);
  on(document, "live:release", function () { window.setTimeout(flushPending, 0); });

  schedule();
})();
