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
      const row = form.closest("tr");
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
