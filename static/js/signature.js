// A signature pad for <canvas data-signature-pad data-target="ID">: the drawing is written, as a
// PNG data URL, into the hidden input with that id; "Clear" buttons carry data-signature-clear="ID".
// Works with mouse, pen and touch through pointer events; no inline script, CSP-safe.
(function () {
  "use strict";

  function setUp(canvas) {
    if (canvas.dataset.ready) return;
    canvas.dataset.ready = "1";
    var input = document.getElementById(canvas.dataset.target);
    var ctx = canvas.getContext("2d");
    var drawing = false;
    var dirty = false;
    var last = null;

    function resize() {
      var ratio = window.devicePixelRatio || 1;
      var rect = canvas.getBoundingClientRect();
      canvas.width = Math.max(1, Math.round(rect.width * ratio));
      canvas.height = Math.max(1, Math.round(rect.height * ratio));
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, rect.width, rect.height);
      ctx.lineWidth = 2.5;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111";
      dirty = false;
      if (input) input.value = "";
    }

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return { x: event.clientX - rect.left, y: event.clientY - rect.top };
    }

    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      drawing = true;
      last = point(event);
      ctx.beginPath();
      ctx.arc(last.x, last.y, 1, 0, Math.PI * 2);
      ctx.fill();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      event.preventDefault();
      var p = point(event);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = p;
      dirty = true;
    });
    function finish() {
      if (!drawing) return;
      drawing = false;
      if (dirty && input) {
        input.value = canvas.toDataURL("image/png");
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);
    canvas.addEventListener("pointerleave", finish);

    document.querySelectorAll('[data-signature-clear="' + canvas.dataset.target + '"]').forEach(
      function (button) {
        button.addEventListener("click", function (event) {
          event.preventDefault();
          resize();
        });
      }
    );
    resize();
  }

  function scan(root) {
    (root || document).querySelectorAll("canvas[data-signature-pad]").forEach(setUp);
  }

  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:afterSettle", function (event) { scan(event.target); });
  if (document.readyState !== "loading") scan(document);
})();
