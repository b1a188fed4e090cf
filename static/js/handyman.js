// The handyman's page: say so when a tap could not be sent (weak signal) and offer to retry the
// very same form; keep the on-site clocks ticking; focus the checklist's summary after errors.
// No inline script, CSP-safe. Without JavaScript the plain forms still work.
(function () {
  "use strict";

  var OFFLINE = "No connection — your tap was not sent.";

  function formOf(event) {
    // requestConfig.elt is the element that made the request, even when the swap has since
    // removed it from the page and htmx re-fires the event on a surviving parent.
    var detail = event.detail || {};
    var elt = (detail.requestConfig && detail.requestConfig.elt) || detail.elt;
    if (!elt) return null;
    return elt.tagName === "FORM" ? elt : elt.closest("form");
  }

  function clearNotice(form) {
    var next = form.nextElementSibling;
    if (next && next.classList.contains("offline")) next.remove();
  }

  function showNotice(form, text, reload) {
    clearNotice(form);
    var box = document.createElement("div");
    box.className = "offline";
    box.setAttribute("role", "alert");
    var p = document.createElement("p");
    p.textContent = text;
    var retry = document.createElement("button");
    retry.type = "button";
    retry.className = "button button-primary";
    retry.textContent = reload ? "Reload the page" : "Retry";
    retry.addEventListener("click", function () {
      box.remove();
      if (reload) {
        window.location.reload();
        return;
      }
      // The same form, with what the handyman already chose (ETA, photos, signature).
      if (form.requestSubmit) form.requestSubmit();
      else htmx.trigger(form, "submit");
    });
    box.appendChild(p);
    box.appendChild(retry);
    form.insertAdjacentElement("afterend", box);
    retry.focus();
  }

  function offline(event) {
    var form = formOf(event);
    if (form) showNotice(form, OFFLINE);
  }

  document.addEventListener("htmx:sendError", offline);
  document.addEventListener("htmx:timeout", offline);
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = formOf(event);
    if (form) clearNotice(form);
  });
  document.addEventListener("htmx:responseError", function (event) {
    var form = formOf(event);
    if (!form) return;
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var text = status === 404
      ? "This job is no longer assigned to you. Reload the page to see your jobs."
      : status === 403
      ? "Your session has ended or the page is out of date. Reload the page."
      : "Something went wrong on our side (error " + status + "). Nothing was lost: retry.";
    showNotice(form, text, status === 404 || status === 403);
  });

  // A request that must not wait forever on a dead connection; the checklist sets its own.
  document.addEventListener("DOMContentLoaded", function () {
    if (window.htmx && !htmx.config.timeout) htmx.config.timeout = 30000;
  });

  // After a refused checklist, move focus to what is missing.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = formOf(event);
    if (!form || !form.hasAttribute("data-checklist")) return;
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 422 || status === 409) {
      window.setTimeout(function () {
        var summary = document.getElementById("checklist-summary");
        if (summary) summary.focus();
      }, 0);
    }
  });

  // After a step, keep keyboard and screen-reader users in the card they were working on: focus
  // its note (not the next button, so that a second Enter cannot move the job twice).
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = formOf(event);
    if (!form || form.hasAttribute("data-checklist")) return;
    var target = form.getAttribute("hx-target");
    if (!target || target.indexOf("#job-") !== 0 || !event.detail.successful) return;
    window.setTimeout(function () {
      var card = document.querySelector(target);
      var note = card && card.querySelector(".job-note");
      if (note) note.focus();
    }, 50);
  });

  // Time on site, counting while the job is in progress.
  function duration(ms) {
    var minutes = Math.max(0, Math.floor(ms / 60000));
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    if (hours) return hours + " h " + (minutes < 10 ? "0" : "") + minutes + " min";
    return minutes + " min";
  }

  function tick() {
    document.querySelectorAll("[data-on-site-since]").forEach(function (el) {
      if (el.dataset.onSiteUntil) return;
      var since = Date.parse(el.dataset.onSiteSince);
      if (!isNaN(since)) el.textContent = duration(Date.now() - since);
    });
  }
  window.setInterval(tick, 30000);
})();
