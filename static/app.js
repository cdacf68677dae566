// Medulla's page script: loaded on every page, no inline code (the CSP forbids it).
// - adds the CSRF token to every htmx request and to our own fetch calls;
// - opens the page's one server-sent-events stream and swaps live fragments into
//   elements marked data-live="<event name>";
// - small progressive enhancements (language select on the sign-in page, closing menus).
(function () {
  "use strict";
  var tokenMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = tokenMeta ? tokenMeta.getAttribute("content") : "";

  document.addEventListener("htmx:config:request", function (evt) {
    var ctx = evt.detail && evt.detail.ctx;
    if (ctx && ctx.request && ctx.request.headers && csrf) ctx.request.headers["X-CSRF-Token"] = csrf;
  });

  window.medulla = {
    csrf: csrf,
    send: function (method, url, body) {
      return fetch(url, {
        method: method,
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    },
  };

  // One stream per tab. Named events fill [data-live] elements; "swap" replaces elements
  // by id (a machine's state badge wherever it shows); "trigger" names an event that
  // un-hides [data-show-on] notices and is dispatched on <body> for hx-trigger="… from:body".
  function connectLive() {
    var targets = document.querySelectorAll("[data-live]");
    if ((!targets.length && !document.querySelector("[data-live-page]")) || !window.EventSource) return;
    var status = document.getElementById("live-status");
    var source = new EventSource("/events");
    source.addEventListener("swap", function (e) {
      var tpl = document.createElement("template");
      tpl.innerHTML = e.data;
      Array.prototype.forEach.call(tpl.content.children, function (node) {
        // Table rows cannot stand alone in a template: they come wrapped in a
        // <table data-swap-rows>, and each row with an id is swapped.
        var nodes = node.id ? [node] : node.matches("table[data-swap-rows]") ? Array.prototype.slice.call(node.querySelectorAll("tr[id]")) : [];
        nodes.forEach(function (n) {
          var old = document.getElementById(n.id);
          if (old) old.replaceWith(n.cloneNode(true));
        });
      });
    });
    source.addEventListener("trigger", function (e) {
      var name = String(e.data).trim();
      document.querySelectorAll('[data-show-on="' + name + '"]').forEach(function (el) { el.hidden = false; });
      document.body.dispatchEvent(new CustomEvent(name, { bubbles: true }));
    });
    var seen = {};
    targets.forEach(function (el) {
      var name = el.getAttribute("data-live");
      if (seen[name]) return;
      seen[name] = true;
      source.addEventListener(name, function (e) {
        document.querySelectorAll('[data-live="' + name + '"]').forEach(function (t) {
          t.innerHTML = e.data;
        });
      });
    });
    function setStatus(ok) {
      if (!status) return;
      status.textContent = status.getAttribute(ok ? "data-online" : "data-offline");
      status.classList.toggle("offline", !ok);
    }
    source.onopen = function () { setStatus(true); };
    source.onerror = function () { setStatus(false); };
  }

  function enhance() {
    // Delegated: htmx replaces the sign-in form (and its select) after a failed attempt.
    document.addEventListener("change", function (e) {
      var select = e.target.closest ? e.target.closest("select[data-reload-lang]") : null;
      if (!select) return;
      var url = new URL(window.location.href);
      url.searchParams.set("lang", select.value);
      window.location.assign(url.toString());
    });
    // Plain forms whose button asks for confirmation (htmx buttons use hx-confirm).
    document.addEventListener("click", function (e) {
      var btn = e.target.closest ? e.target.closest("button[data-confirm]") : null;
      if (btn && !window.confirm(btn.getAttribute("data-confirm"))) e.preventDefault();
    });
    // A notice's own button hides it once used.
    document.addEventListener("click", function (e) {
      var btn = e.target.closest ? e.target.closest("[data-hide-parent]") : null;
      if (btn && btn.parentElement) btn.parentElement.hidden = true;
    });
    // A click outside an open menu closes it.
    document.addEventListener("click", function (e) {
      document.querySelectorAll("details.user-menu[open], details.widget-menu[open]").forEach(function (d) {
        if (!d.contains(e.target)) d.removeAttribute("open");
      });
    });
    connectLive();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", enhance);
  else enhance();
})();

// --- Account page (views/account/tokens.tsx): copy a newly created API token. ---
// A button[data-copy="<input id>"] copies that input's value and shows data-copied for a
// moment. Delegated on document: the button arrives in an htmx swap. Without clipboard
// access the input's text is selected, ready for Ctrl+C.
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var btn = e.target.closest ? e.target.closest("button[data-copy]") : null;
    if (!btn) return;
    var input = document.getElementById(btn.getAttribute("data-copy"));
    if (!input) return;
    input.select();
    var label = btn.textContent;
    var done = function () {
      btn.textContent = btn.getAttribute("data-copied") || label;
      setTimeout(function () { btn.textContent = label; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(input.value).then(done, function () {});
    else if (document.execCommand && document.execCommand("copy")) done();
  });
})();
