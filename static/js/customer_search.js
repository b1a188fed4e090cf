// The new-installation form's customer search (templates/installations/new.html). Drawn for a page
// without JavaScript, its box and "Find" belong to the big form, "Find" first: Enter anywhere
// finds (the page again, everything typed kept) and never schedules. With htmx they join the
// search's own form: Enter in the box finds in place, Enter anywhere else schedules.
(function () {
  "use strict";

  if (!window.htmx || !document.getElementById("customer-search")) return;
  document.querySelectorAll("[data-customer-search]").forEach(function (control) {
    control.setAttribute("form", "customer-search");
  });
})();
