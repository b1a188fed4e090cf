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
