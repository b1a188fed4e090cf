// Django's two-box picker (filter_horizontal: a handyman's partners, a user's groups) draws a
// magnifier <span> with an aria-label and no role, which axe fails as serious
// (aria-prohibited-attr): named as the image it is. SelectFilter2.js draws it on "load", in a
// listener added from the page's <head>; this one, added later, runs after it.
(function () {
  "use strict";

  window.addEventListener("load", function () {
    document.querySelectorAll(".selector .help-tooltip[aria-label]").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  });
})();

// A save refused (a page older than the record, or input refused for itself) comes back with
// Django's "Please correct the error below." at the top, and the focus at the top of the page: a
// keyboard or screen-reader user heard nothing of what went wrong. The focus goes to that note,
// which is described by the sentences that say why (the record's and its rows' own refusals).
// An ordinary page, with no such note, keeps its focus where the browser puts it.
(function () {
  "use strict";

  function focusErrorNote() {
    const note = document.querySelector("#content .errornote");
    if (!note) return;
    const reasons = [];
    document.querySelectorAll("#content .errorlist.nonfield, #content .errorlist.nonform").forEach(
      function (list, i) {
        if (!list.id) list.id = "refusal-reason-" + i;
        reasons.push(list.id);
      }
    );
    if (reasons.length) note.setAttribute("aria-describedby", reasons.join(" "));
    note.setAttribute("tabindex", "-1");
    note.focus();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusErrorNote);
  } else {
    focusErrorNote();
  }
})();
