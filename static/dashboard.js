// The dashboard's widget grid: move (drag a widget's title bar, or focus it and use the
// arrow keys), resize (drag the bottom-right corner, or shift + arrow keys), hide and
// show (× button and the Widgets menu), reset. Every change is saved for the user.
(function () {
  "use strict";
  var grid = document.getElementById("widget-grid");
  if (!grid) return;
  var MAX = 4;

  function widgets() { return Array.prototype.slice.call(grid.querySelectorAll("[data-widget]")); }
  function span(el, axis) {
    var m = new RegExp("\\b" + axis + "-(\\d)\\b").exec(el.className);
    return m ? Number(m[1]) : 1;
  }
  function setSpan(el, axis, n) {
    n = Math.max(1, Math.min(MAX, n));
    el.classList.remove(axis + "-1", axis + "-2", axis + "-3", axis + "-4");
    el.classList.add(axis + "-" + n);
  }
  function layout() {
    return widgets().map(function (el) {
      return { id: el.getAttribute("data-widget"), w: span(el, "w"), h: span(el, "h"), hidden: el.hidden };
    });
  }
  var saveTimer = null;
  function save() {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(function () {
      window.medulla.send("PUT", "/dashboard/layout", { widgets: layout() }).then(function (r) {
        grid.setAttribute("data-state", r.ok ? "saved" : "error");
      });
    }, 300);
    var empty = document.getElementById("dashboard-empty");
    if (empty) empty.hidden = widgets().some(function (el) { return !el.hidden; });
  }

  // Moving by dragging the title bar (pointer events: mouse, pen and touch alike).
  var dragging = null;
  grid.addEventListener("pointerdown", function (e) {
    var handle = e.target.closest("[data-drag-handle]");
    var corner = e.target.closest("[data-resize-handle]");
    if (e.target.closest("button")) return;
    if (handle) {
      dragging = { el: handle.closest("[data-widget]"), mode: "move" };
      dragging.el.classList.add("dragging");
    } else if (corner) {
      var el = corner.closest("[data-widget]");
      var rect = el.getBoundingClientRect();
      dragging = { el: el, mode: "resize", x: e.clientX, y: e.clientY, w: span(el, "w"), h: span(el, "h"),
        cellW: rect.width / span(el, "w"), cellH: rect.height / span(el, "h") };
      el.classList.add("resizing");
    } else return;
    grid.setPointerCapture(e.pointerId);
    e.preventDefault();
  });
  grid.addEventListener("pointermove", function (e) {
    if (!dragging) return;
    if (dragging.mode === "resize") {
      setSpan(dragging.el, "w", Math.round(dragging.w + (e.clientX - dragging.x) / dragging.cellW));
      setSpan(dragging.el, "h", Math.round(dragging.h + (e.clientY - dragging.y) / dragging.cellH));
      return;
    }
    var over = document.elementFromPoint(e.clientX, e.clientY);
    var target = over && over.closest("[data-widget]");
    if (!target || target === dragging.el || target.parentNode !== grid) return;
    var rect = target.getBoundingClientRect();
    var after = e.clientY > rect.top + rect.height / 2 || e.clientX > rect.left + rect.width / 2;
    grid.insertBefore(dragging.el, after ? target.nextSibling : target);
  });
  function endDrag() {
    if (!dragging) return;
    dragging.el.classList.remove("dragging", "resizing");
    dragging = null;
    save();
  }
  grid.addEventListener("pointerup", endDrag);
  grid.addEventListener("pointercancel", endDrag);

  // Keyboard: arrows move, shift + arrows resize.
  grid.addEventListener("keydown", function (e) {
    var handle = e.target.closest("[data-drag-handle]");
    if (!handle) return;
    var el = handle.closest("[data-widget]");
    var keys = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    var d = keys[e.key];
    if (!d) return;
    e.preventDefault();
    if (e.shiftKey) {
      setSpan(el, "w", span(el, "w") + d[0]);
      setSpan(el, "h", span(el, "h") + d[1]);
    } else {
      var list = widgets();
      var i = list.indexOf(el) + d[0] + d[1];
      if (i < 0 || i >= list.length) return;
      grid.insertBefore(el, d[0] + d[1] > 0 ? list[i].nextSibling : list[i]);
      handle.focus();
    }
    save();
  });

  // Hide from the widget itself; show or hide from the menu.
  grid.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-hide-widget]");
    if (!btn) return;
    var el = btn.closest("[data-widget]");
    el.hidden = true;
    var box = document.querySelector('[data-toggle-widget="' + el.getAttribute("data-widget") + '"]');
    if (box) box.checked = false;
    save();
  });
  document.querySelectorAll("[data-toggle-widget]").forEach(function (box) {
    box.addEventListener("change", function () {
      var el = grid.querySelector('[data-widget="' + box.getAttribute("data-toggle-widget") + '"]');
      if (!el) return;
      el.hidden = !box.checked;
      if (box.checked && !el.querySelector(".widget-body").innerHTML.trim()) {
        fetch("/dashboard/widgets/" + encodeURIComponent(el.getAttribute("data-widget")), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : ""; })
          .then(function (html) { el.querySelector(".widget-body").innerHTML = html; });
      }
      save();
    });
  });
  var reset = document.querySelector("[data-reset-layout]");
  if (reset) reset.addEventListener("click", function () {
    window.medulla.send("DELETE", "/dashboard/layout").then(function () { window.location.reload(); });
  });
})();
