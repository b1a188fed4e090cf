// The phone's "Menu" of sections (a <details>, _partner_nav.html) closes as a menu does: on
// Escape, the focus back on its button, and on a tap or a focus anywhere outside it. Without
// this script it still opens and closes by its own button.
(function () {
  "use strict";

  function openMenu() {
    return document.querySelector(".section-menu[open]");
  }

  document.addEventListener("keydown", function (event) {
    const menu = openMenu();
    if (event.key !== "Escape" || !menu) return;
    menu.open = false;
    menu.querySelector("summary").focus();
  });

  function closeIfOutside(event) {
    const menu = openMenu();
    if (menu && !menu.contains(event.target)) menu.open = false;
  }
  document.addEventListener("click", closeIfOutside);
  document.addEventListener("focusin", closeIfOutside);
})();
