// A signature pad for <canvas data-signature-pad data-target="ID">: the drawing is written, as a
// PNG data URL, into the hidden input with that id; "Clear" buttons carry data-signature-clear="ID".
// Works with mouse, pen and touch through pointer events; no inline script, CSP-safe.
//
// The strokes are kept as points, not only as pixels: when the pad changes size (a phone turned
// on its side, a window resized) the canvas is re-sized to its new box and the strokes are drawn
// again, scaled the same way across and down, and never beyond the box, so that ink keeps
// landing under the finger and the whole signature keeps its shape (the pad's height is fixed
// while its width follows the screen: scaling by the width alone pushed the ink off the bottom).
(function () {
  "use strict";

  var INK = "#111";
  var LINE = 2.5;

  function setUp(canvas) {
    if (canvas.dataset.ready) return;
    canvas.dataset.ready = "1";
    var input = document.getElementById(canvas.dataset.target);
    var ctx = canvas.getContext("2d");
    var strokes = []; // each a list of {x, y} in CSS pixels of the box they were drawn in
    var current = null;
    var scale = 1; // canvas pixels (CSS) per stored point unit, set when the box changes
    var base = null; // the first box: the points are measured in it
    var size = { width: 0, height: 0, ratio: 0 };
    // A drawing the page came back with (a refusal for something else): an image, in CSS pixels.
    var kept = null;

    function paper() {
      ctx.setTransform(size.ratio, 0, 0, size.ratio, 0, 0);
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, size.width, size.height);
      ctx.lineWidth = LINE;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = INK;
      ctx.fillStyle = INK;
    }

    function dot(p) {
      ctx.beginPath();
      ctx.arc(p.x, p.y, LINE / 2, 0, Math.PI * 2);
      ctx.fill();
    }

    function segment(a, b) {
      ctx.beginPath();
      ctx.moveTo(a.x, a.y);
      ctx.lineTo(b.x, b.y);
      ctx.stroke();
    }

    // One factor for both directions: the new box against the first, then smaller still if the
    // ink drawn (in a wider box) would not fit this one.
    function fitScale() {
      var s = Math.min(size.width / base.width, size.height / base.height);
      if (kept) s = Math.min(s, size.width / kept.width, size.height / kept.height);
      strokes.forEach(function (stroke) {
        stroke.forEach(function (p) {
          if (p.x * s > size.width) s = size.width / p.x;
          if (p.y * s > size.height) s = size.height / p.y;
        });
      });
      return s;
    }

    function redraw() {
      paper();
      if (kept) ctx.drawImage(kept.image, 0, 0, kept.width * scale, kept.height * scale);
      strokes.forEach(function (stroke) {
        var points = stroke.map(onCanvas);
        dot(points[0]);
        for (var i = 1; i < points.length; i++) segment(points[i - 1], points[i]);
      });
    }

    function save() {
      if (!input) return;
      input.value = kept || strokes.some(function (s) { return s.length > 1; })
        ? canvas.toDataURL("image/png")
        : "";
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    // Match the canvas to its box; redraw what was drawn if the box changed.
    function fit() {
      var rect = canvas.getBoundingClientRect();
      var ratio = window.devicePixelRatio || 1;
      if (rect.width < 1 || rect.height < 1) return; // hidden: wait until it is shown
      if (rect.width === size.width && rect.height === size.height && ratio === size.ratio) {
        return;
      }
      size = { width: rect.width, height: rect.height, ratio: ratio };
      canvas.width = Math.max(1, Math.round(rect.width * ratio));
      canvas.height = Math.max(1, Math.round(rect.height * ratio));
      if (!base) base = { width: rect.width, height: rect.height };
      scale = fitScale();
      redraw();
      if (strokes.length) save();
    }

    function clear() {
      kept = null;
      strokes = [];
      current = null;
      base = { width: size.width, height: size.height };
      scale = 1;
      redraw();
      save();
    }

    function point(event) {
      // Measured now, never from a size remembered at load.
      var rect = canvas.getBoundingClientRect();
      return {
        x: (event.clientX - rect.left) / scale,
        y: (event.clientY - rect.top) / scale,
      };
    }

    function onCanvas(p) {
      return { x: p.x * scale, y: p.y * scale };
    }

    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      fit(); // a rotation whose resize event has not arrived yet
      canvas.setPointerCapture(event.pointerId);
      current = [point(event)];
      strokes.push(current);
      dot(onCanvas(current[0]));
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!current) return;
      event.preventDefault();
      var p = point(event);
      segment(onCanvas(current[current.length - 1]), onCanvas(p));
      current.push(p);
    });
    function finish() {
      if (!current) return;
      current = null;
      save();
    }
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);
    canvas.addEventListener("pointerleave", finish);

    document.querySelectorAll('[data-signature-clear="' + canvas.dataset.target + '"]').forEach(
      function (button) {
        button.addEventListener("click", function (event) {
          event.preventDefault();
          clear();
        });
      }
    );

    var pending = false;
    function refit() {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        fit();
      });
    }
    if (window.ResizeObserver) new ResizeObserver(refit).observe(canvas);
    window.addEventListener("resize", refit);
    window.addEventListener("orientationchange", refit);
    fit();

    // Shown again in the box, at the size it was drawn (the same screen), to sign over or clear.
    if (input && input.value.indexOf("data:image/png;base64,") === 0) {
      var image = new Image();
      image.onload = function () {
        var ratio = window.devicePixelRatio || 1;
        kept = { image: image, width: image.width / ratio, height: image.height / ratio };
        if (!base) return; // hidden: fit() draws it once the box is shown
        scale = fitScale();
        redraw();
      };
      image.src = input.value;
    }
  }

  function scan(root) {
    (root || document).querySelectorAll("canvas[data-signature-pad]").forEach(setUp);
  }

  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:afterSettle", function (event) { scan(event.target); });
  if (document.readyState !== "loading") scan(document);
})();
