// Partner portal: the action dialog. Buttons are real forms that work without JavaScript; with
// htmx the action's form is loaded into one <dialog>, opened here with showModal(). Escape closes it
// (native), as do its Cancel/Close links. After a swap elsewhere (the row), it closes itself.
(function () {
  "use strict";

  let opener = null;

  function dialog() {
    return document.getElementById("action-dialog");
  }

  function body() {
    return document.getElementById("action-dialog-body");
  }

  function focusAfterClose() {
    if (opener && document.body.contains(opener)) {
      opener.focus();
    } else if (opener && opener.dataset.row) {
      // The row was replaced: focus its new self so keyboard users keep their place.
      const row = document.getElementById(opener.dataset.row);
      if (row) row.focus();
    }
    opener = null;
  }

  function closeDialog() {
    const d = dialog();
    if (d && d.open) d.close();
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.hasAttribute("data-opens-dialog")) {
      const button = form.querySelector("button");
      opener = button;
      const row = form.closest("[id^='row-']");
      if (button && row) button.dataset.row = row.id;
    }
  }, true);

  document.addEventListener("click", function (event) {
    const closer = event.target.closest("[data-close-dialog]");
    if (closer && dialog() && dialog().contains(closer)) {
      event.preventDefault();
      closeDialog();
    }
  });

  document.addEventListener("close", function (event) {
    if (event.target === dialog()) focusAfterClose();
  }, true);

  // An action's row answer carries its confirmation in the `installations-changed` event; it
  // goes to the page's one polite live region (flash.js).
  document.body.addEventListener("installations-changed", function (event) {
    if (event.detail && event.detail.message) window.portalFlash.say(event.detail.message);
  });

  // After a plain action the page opens at the changed row (#row-5) or heading (#who-5) with a
  // flash message: focus it, and say the message again now that the page has loaded.
  function afterLoad() {
    const region = document.getElementById("flash");
    if (!region || !region.textContent.trim()) return;
    const target = window.location.hash && document.getElementById(window.location.hash.slice(1));
    if (target && target.hasAttribute("tabindex")) target.focus();
    window.portalFlash.again();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", afterLoad);
  } else {
    afterLoad();
  }

  // The list's filters: a search is sent by Enter or "Apply filters" (the form's submit), a
  // choice (a select, a date, a box) as soon as it changes. The search box's own change event
  // (Enter fires it just before the submit) would send the same search twice, the first to be
  // aborted: it sends nothing. Without JavaScript, Enter submits the form as ever.
  document.addEventListener("htmx:confirm", function (event) {
    const cause = event.detail.triggeringEvent;
    const box = cause && cause.target;
    if (cause && cause.type === "change" && box instanceof HTMLInputElement && box.type === "search") {
      event.preventDefault();
    }
  });

  // A row's action refused as its dialog was asked for (another tab changed the job first): the
  // answer is the row as it now is, with the refusal under it, and no dialog opens. The button
  // pressed was swapped away with the row: the focus goes to the row, not to the top of the page.
  document.addEventListener("htmx:afterSettle", function () {
    const d = dialog();
    if (!opener || (d && d.open) || document.body.contains(opener)) return;
    const active = document.activeElement;
    if (active && active !== document.body && document.body.contains(active)) return;
    focusAfterClose();
  });

  // The list's results swapped from a link inside them that the new results no longer have
  // ("Clear filters", "Next page" to the last page, "Previous page" to the first): htmx puts the
  // focus back only on an element with the same id, so it fell to the top of the page and a
  // keyboard user started again from the navigation. It goes to what the list now says instead:
  // its count ("111 installations, page 5 of 5.") or that nothing matches.
  let resultsHadFocus = false;
  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    resultsHadFocus = Boolean(target && target.id === "results" && target.contains(document.activeElement));
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    const target = event.detail.target;
    if (!resultsHadFocus || !target || target.id !== "results") return;
    resultsHadFocus = false;
    const active = document.activeElement;
    if (active && active !== document.body && document.body.contains(active)) return;
    const said = document.getElementById("result-count") || document.getElementById("empty-state");
    if (said) said.focus();
  });

  // The record's messages panel answers "Re-send link to customer" with itself, its sentence at
  // the top (a new link sent, or not yet: when it may be). The button keeps the focus (its id);
  // the sentence is said in the page's one polite live region, as every other action's is: a
  // region drawn anew with its words is not read out.
  document.addEventListener("htmx:afterSettle", function (event) {
    const source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!source || !source.getAttribute || source.getAttribute("hx-target") !== "#messages-panel") return;
    const panel = document.getElementById("messages-panel");
    const notice = panel && panel.querySelector(".flash li, .error-summary");
    if (notice) window.portalFlash.say(notice.textContent.trim(), notice.matches(".error-summary") ? "warning" : "success");
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    const d = dialog();
    if (!d) return;
    const target = event.detail.target;
    if (target === body()) {
      const title = body().querySelector("h2");
      if (title && title.id) d.setAttribute("aria-labelledby", title.id);
      if (!d.open) d.showModal();
      const first = body().querySelector(
        ".has-error input, .has-error textarea, input:not([type=hidden]), textarea, select, button, a[href]"
      );
      if (first) first.focus();
    } else if (d.open) {
      const source = event.detail.requestConfig && event.detail.requestConfig.elt;
      // A background refresh (the cards, after an earlier action) may land after the next dialog
      // opened: it must not close it. Only the dialog's own submission closes it.
      if (source && source.hasAttribute && source.hasAttribute("data-background-refresh")) return;
      if (!source || d.contains(source) || !document.body.contains(source)) closeDialog();
    }
  });
})();
