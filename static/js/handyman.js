// The handyman's page: say so when a tap could not be sent (weak signal) and offer to retry the
// very same form; keep the on-site clocks ticking; focus the checklist's summary after errors.
// No inline script, CSP-safe. Without JavaScript the plain forms still work.
(function () {
  "use strict";

  var OFFLINE = "No connection — your tap was not sent.";
  // A timeout is not a lost tap: it may have arrived and its answer not (yet) come back.
  var NO_ANSWER_IN_TIME =
    "No answer in time — your tap may have arrived. Retry: nothing is done twice.";

  function formOf(event) {
    // requestConfig.elt is the element that made the request, even when the swap has since
    // removed it from the page and htmx re-fires the event on a surviving parent.
    var detail = event.detail || {};
    var elt = (detail.requestConfig && detail.requestConfig.elt) || detail.elt;
    if (!elt) return null;
    return elt.tagName === "FORM" ? elt : elt.closest("form");
  }

  // What a notice goes after: the form, or a card's link that loads in place ("Not yet").
  function senderOf(event) {
    var form = formOf(event);
    if (form) return form;
    var detail = event.detail || {};
    var elt = (detail.requestConfig && detail.requestConfig.elt) || detail.elt;
    return elt && elt.tagName === "A" && elt.closest(".job-card") ? elt : null;
  }

  function clearNotice(form) {
    var next = form.nextElementSibling;
    if (next && next.classList.contains("offline")) next.remove();
  }

  // `reload`: the button reloads the page instead of retrying; `leave`: it goes to that URL.
  function showNotice(form, text, reload, leave) {
    clearNotice(form);
    var box = document.createElement("div");
    box.className = "offline";
    box.setAttribute("role", "alert");
    var p = document.createElement("p");
    p.textContent = text;
    var retry = document.createElement("button");
    retry.type = "button";
    retry.className = "button button-primary";
    retry.textContent = leave ? "Back to my jobs" : reload ? "Reload the page" : "Retry";
    retry.addEventListener("click", function () {
      box.remove();
      if (leave) {
        window.location.assign(leave);
        return;
      }
      if (reload) {
        window.location.reload();
        return;
      }
      // The same form, with what the handyman already chose (ETA, photos, signature).
      if (form.tagName === "A") form.click();
      else if (form.requestSubmit) form.requestSubmit();
      else htmx.trigger(form, "submit");
    });
    box.appendChild(p);
    box.appendChild(retry);
    form.insertAdjacentElement("afterend", box);
    retry.focus();
  }

  document.addEventListener("htmx:sendError", function (event) {
    var form = senderOf(event);
    if (form) showNotice(form, OFFLINE);
  });
  document.addEventListener("htmx:timeout", function (event) {
    var form = senderOf(event);
    if (form) showNotice(form, NO_ANSWER_IN_TIME);
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = senderOf(event);
    if (form) clearNotice(form);
  });
  function saidBy(xhr) {
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
      var said = doc.querySelector("[data-said]");
      return said ? said.textContent.trim() : "";
    } catch (error) {
      return "";
    }
  }

  document.addEventListener("htmx:responseError", function (event) {
    var form = senderOf(event);
    if (!form) return;
    var xhr = event.detail.xhr;
    var status = xhr ? xhr.status : 0;
    // A job given away meanwhile: the server's own sentence (the one a tap without JavaScript
    // reads on its page), else the general one.
    var said = status === 404 ? saidBy(xhr) : "";
    // The checklist is the job's own page: reloaded, a job given away is "Page not found". The
    // way on is his list (the page's back link).
    var back = form.hasAttribute("data-checklist") && document.querySelector("a.back-link");
    if (status === 404 && back) {
      showNotice(form, said || "This job is no longer assigned to you.", false, back.href);
      return;
    }
    var text = said
      ? said + " Reload the page to see your jobs."
      : status === 404
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

  // The checklist's photos can take minutes on a weak signal, so no time limit is put on the
  // whole upload (a fixed one cut off uploads that were still moving, and Retry only started
  // them over). It is given up when nothing has moved for STALL_MS, or when no answer comes
  // ANSWER_MS after the last byte (the server stores the photos); the button shows how far it has
  // got. A retry after either is safe: a checklist already taken is not taken twice.
  var STALL_MS = 30000;
  var ANSWER_MS = 90000;
  var STALLED = "The connection stopped while sending — the job is not marked done yet.";
  var NO_ANSWER = "The photos were sent but no answer came back. Retry: nothing is done twice.";

  document.addEventListener("htmx:beforeSend", function (event) {
    var form = formOf(event);
    var xhr = event.detail.xhr;
    if (!form || !form.hasAttribute("data-checklist") || !xhr) return;
    xhr.timeout = 0;
    var busy = form.querySelector("button[type=submit] .when-busy");
    var timer = null;
    var sent = false;
    function giveUpAfter(ms) {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        xhr.givenUp = sent ? NO_ANSWER : STALLED;
        xhr.abort();
      }, ms);
    }
    giveUpAfter(STALL_MS);
    if (xhr.upload) {
      xhr.upload.addEventListener("progress", function (progress) {
        giveUpAfter(STALL_MS);
        if (busy && progress.lengthComputable && progress.total) {
          var percent = Math.floor((100 * progress.loaded) / progress.total);
          busy.textContent = "Sending… " + percent + "%";
        }
      });
      xhr.upload.addEventListener("load", function () {
        sent = true;
        giveUpAfter(ANSWER_MS);
      });
    }
    xhr.addEventListener("loadend", function () {
      window.clearTimeout(timer);
      if (busy) busy.textContent = "Sending…";
    });
  });

  // A checklist on its way withdraws the last attempt's refusal ("Still needed: a photo"): what
  // was missing may have been given since, and if the upload is lost the page must not go on
  // asking for it. The server's answer redraws whatever still holds (out of band).
  document.addEventListener("htmx:beforeSend", function (event) {
    var form = formOf(event);
    if (!form || !form.hasAttribute("data-checklist")) return;
    var summary = document.getElementById("checklist-summary");
    if (summary) {
      summary.textContent = "";
      summary.removeAttribute("role");
      summary.classList.remove("error-summary");
    }
    form.querySelectorAll(".field-error").forEach(function (box) { box.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (field) {
      field.removeAttribute("aria-invalid");
    });
  });

  document.addEventListener("htmx:sendAbort", function (event) {
    var form = formOf(event);
    var xhr = event.detail.xhr;
    if (form && xhr && xhr.givenUp) showNotice(form, xhr.givenUp);
  });

  // A photo over the size limit, a HEIC photo, or more photos (or bytes) than a job takes, is
  // said when they are chosen (the server's words), and the checklist is not sent with them:
  // the server would refuse them, but only once all of them had crossed a weak signal. The
  // server still decides; this only saves the wait.
  function megabytes(size) {
    var value = size / (1024 * 1024);
    return value < 10 ? String(Math.round(value * 10) / 10) : String(Math.round(value));
  }

  // By its type or its name only: its bytes are the server's to read (and it still does).
  function isHeic(file) {
    return /^image\/hei[cf]/.test(file.type) || /\.hei[cf]$/i.test(file.name);
  }

  function refusals(input) {
    var max = Number(input.dataset.maxBytes);
    if (!max || !input.files) return [];
    var files = Array.prototype.slice.call(input.files);
    var said = [];
    files.forEach(function (file) {
      if (isHeic(file) && input.dataset.heic) {
        // A function, not a string: "$&" in a file's name is not a replacement pattern.
        said.push(input.dataset.heic.replace("{name}", function () { return file.name; }));
      } else if (file.size > max) {
        said.push("“" + file.name + "” is " + megabytes(file.size) + " MB; each photo can be " +
          "at most " + megabytes(max) + " MB. Take it again at a lower resolution or choose " +
          "another one.");
      }
    });
    var total = files.reduce(function (sum, file) { return sum + file.size; }, 0);
    var maxCount = Number(input.dataset.maxCount);
    var maxTotal = Number(input.dataset.maxTotal);
    if ((maxCount && files.length > maxCount) || (maxTotal && total > maxTotal)) {
      said.unshift(input.dataset.tooMany);
    }
    return said;
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-checklist] input[type=file][data-max-bytes]")) {
      return;
    }
    var box = document.getElementById(input.name + "-error");
    if (!box) return;
    box.textContent = "";
    var said = refusals(input);
    said.forEach(function (text) {
      var p = document.createElement("p");
      p.textContent = text;
      box.appendChild(p);
    });
    if (said.length) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = formOf(event);
    if (!form || !form.hasAttribute("data-checklist")) return;
    var input = form.querySelector("input[type=file][data-max-bytes]");
    if (input && refusals(input).length) {
      event.preventDefault();
      input.focus();
    }
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
  function stepTarget(event) {
    var form = formOf(event);
    if (!form || form.hasAttribute("data-checklist")) return null;
    var target = form.getAttribute("hx-target");
    return target && target.indexOf("#job-") === 0 ? target : null;
  }

  function focusNote(target) {
    var card = document.querySelector(target);
    var note = card && (card.querySelector(".job-note") || card.querySelector("h3"));
    if (note && note !== document.activeElement) note.focus();
  }

  // The second tap of a double tap lands on what is inert for the moment: the step's own button,
  // disabled while its request is on its way, or what was just drawn under the finger (see
  // settle below). A disabled button takes no focus, so the browser gave it to the nearest
  // focusable ancestor, <main> (tabindex=-1 for the skip link); a settling link took it itself,
  // and the next Enter opened the checklist. Until the card has settled, focus that lands on
  // either goes back to the card's note, where a single tap leaves it.
  var holdFocus = null; // {target: "#job-5", until: ms}

  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = stepTarget(event);
    if (target) holdFocus = { target: target, until: Date.now() + 60000 };
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var target = stepTarget(event);
    if (!target) return;
    if (!event.detail.successful) {
      holdFocus = null;
      return;
    }
    holdFocus = { target: target, until: Date.now() + SETTLE_MS + 300 };
    window.setTimeout(function () { focusNote(target); }, 50);
  });

  document.addEventListener("focusin", function (event) {
    if (!holdFocus || Date.now() > holdFocus.until) return;
    var landed = event.target;
    var inert = landed.tagName === "MAIN" ||
      (landed.closest && landed.closest(holdFocus.target + " .is-settling"));
    if (inert) focusNote(holdFocus.target);
  });

  // "Not yet" redraws the card as it was, and the link pressed goes with it: he goes on at the
  // card's name, not at the top of the page, and not at its step button (a second Enter).
  document.addEventListener("htmx:afterRequest", function (event) {
    var detail = event.detail || {};
    var elt = (detail.requestConfig && detail.requestConfig.elt) || detail.elt;
    if (!elt || elt.tagName !== "A" || !detail.successful) return;
    var target = elt.getAttribute("hx-target");
    if (!target || target.indexOf("#job-") !== 0) return;
    window.setTimeout(function () {
      var heading = document.querySelector(target + " h3");
      if (heading) heading.focus();
    }, 50);
  });

  // A freshly drawn step button is inert for a moment: after "On my way" the card is redrawn
  // with "Arrived" exactly under the finger, and the second tap of a double tap must land on
  // nothing. `disabled` swallows the tap (it does not fall through to what lies beneath) and
  // tells assistive technology the button is not available yet; .is-settling shows it.
  // "Mark done" is a link (the checklist is its own page), drawn under the finger after "Yes, I
  // am at the site": a link cannot be disabled, so its click is swallowed below instead.
  var SETTLE_MS = 700;

  function settle(root) {
    if (!root || !root.querySelectorAll) return;
    var buttons = root.querySelectorAll(".step-form button[type=submit]");
    var links = root.querySelectorAll("a.step-link");
    buttons.forEach(function (button) {
      button.disabled = true;
      button.classList.add("is-settling");
      button.setAttribute("aria-busy", "true");
    });
    links.forEach(function (link) {
      link.classList.add("is-settling");
      link.setAttribute("aria-disabled", "true");
    });
    if (!buttons.length && !links.length) return;
    window.setTimeout(function () {
      buttons.forEach(function (button) {
        button.disabled = false;
        button.classList.remove("is-settling");
        button.removeAttribute("aria-busy");
      });
      links.forEach(function (link) {
        link.classList.remove("is-settling");
        link.removeAttribute("aria-disabled");
      });
    }, SETTLE_MS);
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.step-link.is-settling");
    if (link) event.preventDefault();
  }, true);

  // htmx:load fires on every piece of content htmx swaps in (not on the first page load, whose
  // buttons wait for a deliberate first tap).
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail && event.detail.elt;
    if (!elt || elt === document.body) return;
    if (elt.classList && elt.classList.contains("job-card")) settle(elt);
    else if (elt.querySelector && elt.querySelector(".job-card")) settle(elt);
  });

  // "Later" (or the overdue list) loaded in place: the reader continues at its heading, which
  // says what arrived, and a keyboard user's next Tab is the list's own paging.
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail && event.detail.elt;
    if (!elt || !elt.classList || !elt.classList.contains("later-list")) return;
    var heading = elt.querySelector("h3");
    if (heading) heading.focus();
  });

  // Days off answered in place: the answer replaced the button he pressed, and focus fell to the
  // page. He goes on at the date to correct, or at the section's heading, above its note.
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail && event.detail.elt;
    if (!elt || elt.id !== "days-off") return;
    var target = elt.querySelector("[aria-invalid=true]") || elt.querySelector("h2");
    if (target) target.focus();
  });

  // Time on site, counting while the job is in progress: the same words as the server's
  // installations.formatting.duration_text (whole minutes, rounded down).
  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  function duration(ms) {
    var minutes = Math.max(0, Math.floor(ms / 60000));
    if (minutes === 0) return "less than a minute";
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    var parts = [];
    if (hours) parts.push(plural(hours, "hour"));
    if (minutes) parts.push(plural(minutes, "minute"));
    return parts.join(" ");
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
