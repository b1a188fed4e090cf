// The page's one polite live region (#flash, in base.html): every script says its sentences
// here. The region is emptied first and filled a moment later, so that the same sentence twice is
// still heard. Meanwhile it keeps its height: emptied, it would pull the page up for that moment
// and push it down again (a jump under the user's eyes, and the bottom of a scrolled page lost).
(function () {
  "use strict";

  const REFILL_MS = 50;
  let timer = null;
  let queued = [];

  function region() {
    return document.getElementById("flash");
  }

  function hold(el) {
    if (!el.style.minHeight) el.style.minHeight = el.offsetHeight + "px";
  }

  function release(el) {
    el.style.minHeight = "";
    // Not even an empty style="" left behind: htmx keeps the page in its history cache and
    // puts it back on Back as HTML, where any style attribute breaks the CSP (style-src 'self').
    if (!el.getAttribute("style")) el.removeAttribute("style");
  }

  // Sentences said within the same moment (an action's confirmation and a live change) are
  // all shown, in the order they were said; the same sentence twice in that moment (a
  // double-clicked action, answered twice as done) is shown once.
  function fill() {
    timer = null;
    const el = region();
    const items = queued;
    queued = [];
    if (!el) return;
    const list = document.createElement("ul");
    list.className = "flash";
    items.forEach(function (item) {
      const li = document.createElement("li");
      li.className = "flash-" + item.kind;
      li.textContent = item.text;
      list.appendChild(li);
    });
    el.appendChild(list);
    release(el);
  }

  // `sentences`: a sentence or a list of them; `kind`: success (the default), info, warning
  // or error, the levels of Django's messages.
  function say(sentences, kind) {
    const el = region();
    const texts = (Array.isArray(sentences) ? sentences : [sentences]).filter(Boolean);
    if (!el || !texts.length) return;
    texts.forEach(function (text) {
      const item = { text: text, kind: kind || "success" };
      const said = queued.some(function (q) { return q.text === item.text && q.kind === item.kind; });
      if (!said) queued.push(item);
    });
    if (timer) return;
    hold(el);
    el.textContent = "";
    timer = window.setTimeout(fill, REFILL_MS);
  }

  // What the server wrote in the region (a flash message after a redirect), said once more now
  // that the page has loaded and a screen reader listens.
  function again() {
    const el = region();
    if (!el || !el.textContent.trim() || timer) return;
    const html = el.innerHTML;
    hold(el);
    el.innerHTML = "";
    window.setTimeout(function () {
      el.innerHTML = html;
      release(el);
    }, REFILL_MS);
  }

  // htmx keeps the page it leaves as HTML (its history cache) and puts it back on Back, where a
  // style attribute breaks the CSP: the region is saved without the height it may be holding
  // (the snapshot is taken at once after this event; the height is put back just after).
  document.addEventListener("htmx:beforeHistorySave", function () {
    const el = region();
    if (!el || !el.hasAttribute("style")) return;
    const held = el.style.minHeight;
    el.removeAttribute("style");
    window.setTimeout(function () {
      if (timer && held) el.style.minHeight = held;
    }, 0);
  });

  window.portalFlash = { say: say, again: again };
})();
