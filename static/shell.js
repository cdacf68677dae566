// The remote terminal page (views/actions/shell.tsx): xterm.js in the page, a WebSocket to
// the appliance (/computers/<id>/shell/ws), which relays to the agent's pseudo-terminal.
// Messages to the server: {"t":"i","d":<base64 keystrokes>} and {"t":"r","c":cols,"r":rows};
// from the server: binary frames (terminal output) and JSON {"t":"ready"|"exit"|"error"}.
//
// The page's Content-Security-Policy forbids inline <style> elements, which xterm.js creates
// for its dimensions and theme. Before the terminal starts, <style> elements are replaced
// by inert stand-ins whose text becomes constructed style sheets (adoptedStyleSheets, which
// the CSP does not block), and style attributes are set through the CSSOM.
(function () {
  "use strict";
  var el = document.getElementById("terminal");
  if (!el || !window.Terminal) return;

  (function shimStyles() {
    if (!("adoptedStyleSheets" in document) || typeof CSSStyleSheet !== "function") return;
    // <style>: an inert <template> stands in for it (never parsed as CSS, so never checked
    // against the CSP), and its text becomes an adopted, constructed style sheet.
    var create = document.createElement.bind(document);
    document.createElement = function (tag, opts) {
      if (String(tag).toLowerCase() !== "style") return create(tag, opts);
      var node = create("template");
      var sheet = new CSSStyleSheet();
      var text = "";
      document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
      var apply = function (value) {
        text = String(value == null ? "" : value);
        sheet.replaceSync(text);
      };
      Object.defineProperty(node, "textContent", { get: function () { return text; }, set: apply });
      Object.defineProperty(node, "innerText", { get: function () { return text; }, set: apply });
      Object.defineProperty(node, "type", { get: function () { return "text/css"; }, set: function () {} });
      Object.defineProperty(node, "media", { get: function () { return ""; }, set: function () {} });
      Object.defineProperty(node, "sheet", { get: function () { return sheet; } });
      var remove = node.remove.bind(node);
      node.remove = function () {
        document.adoptedStyleSheets = document.adoptedStyleSheets.filter(function (s) { return s !== sheet; });
        remove();
      };
      return node;
    };
    // style="…" attributes (xterm.js sets them for true-colour cells) go through the CSSOM,
    // which the CSP allows, rather than through the attribute, which it blocks.
    var setAttribute = Element.prototype.setAttribute;
    Element.prototype.setAttribute = function (name, value) {
      if (String(name).toLowerCase() === "style" && this.style) {
        this.style.cssText = String(value);
        return;
      }
      return setAttribute.call(this, name, value);
    };
  })();

  var status = document.getElementById("shell-status");
  var openBtn = document.getElementById("shell-open");
  var transcript = document.getElementById("shell-transcript");
  var setStatus = function (key, extra) {
    if (status) status.textContent = (status.getAttribute("data-" + key) || "") + (extra ? " " + extra : "");
  };
  var term = new window.Terminal({ cursorBlink: true, convertEol: false, fontFamily: "ui-monospace, Menlo, Consolas, monospace", fontSize: 14, scrollback: 5000 });
  var fit = window.FitAddon ? new window.FitAddon.FitAddon() : null;
  if (fit) term.loadAddon(fit);
  term.open(el);
  if (fit) fit.fit();
  window.medullaTerminal = term;

  var encoder = new TextEncoder();
  var toBase64 = function (bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s);
  };
  var ws = null;

  function connect() {
    if (ws) return;
    setStatus("connecting");
    if (openBtn) openBtn.disabled = true;
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/computers/" + encodeURIComponent(el.getAttribute("data-machine")) +
      "/shell/ws?csrf=" + encodeURIComponent(el.getAttribute("data-csrf")) + "&cols=" + term.cols + "&rows=" + term.rows + (transcript && transcript.checked ? "&transcript=1" : "");
    ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    ws.onmessage = function (e) {
      if (typeof e.data !== "string") {
        term.write(new Uint8Array(e.data));
        return;
      }
      var msg;
      try { msg = JSON.parse(e.data); } catch (err) { return; }
      if (msg.t === "ready") {
        setStatus("ready", msg.shell || "");
        el.setAttribute("data-state", "ready");
        term.focus();
      } else if (msg.t === "exit" || msg.t === "error") {
        setStatus("ended", msg.detail || "");
      }
    };
    ws.onclose = function () {
      setStatus("ended");
      el.setAttribute("data-state", "ended");
      ws = null;
      if (openBtn) openBtn.disabled = false;
    };
  }

  term.onData(function (d) {
    if (ws && ws.readyState === 1) ws.send(JSON.stringify({ t: "i", d: toBase64(encoder.encode(d)) }));
  });
  term.onBinary(function (d) {
    var bytes = new Uint8Array(d.length);
    for (var i = 0; i < d.length; i++) bytes[i] = d.charCodeAt(i) & 255;
    if (ws && ws.readyState === 1) ws.send(JSON.stringify({ t: "i", d: toBase64(bytes) }));
  });
  term.onResize(function (size) {
    if (ws && ws.readyState === 1) ws.send(JSON.stringify({ t: "r", c: size.cols, r: size.rows }));
  });
  window.addEventListener("resize", function () { if (fit) fit.fit(); });
  if (openBtn) openBtn.addEventListener("click", connect);
})();
