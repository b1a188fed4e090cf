// An expected arrival on a page left open past its time (the handyman's card, the partner's
// record page): the server's other wording, drawn hidden beside it, takes its place, as a reload
// would say it. Every 30 seconds, by this device's clock.
(function () {
  "use strict";

  function arrivalsDue() {
    document.querySelectorAll("[data-expected-by]").forEach(function (el) {
      var by = Date.parse(el.dataset.expectedBy);
      var passed = el.nextElementSibling;
      if (isNaN(by) || Date.now() < by || !passed) return;
      passed.hidden = false;
      el.remove();
    });
  }
  window.setInterval(arrivalsDue, 30000);
})();
