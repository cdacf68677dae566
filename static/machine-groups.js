// Machine groups' page script: the static picker's "tick all", and the dynamic group query
// builder (SPEC C5). It draws the query held as JSON in
// <textarea name="query"> as nested blocks of conditions, from the field table the server
// put in #query-builder's data-builder attribute, and writes the JSON back at every change:
// the textarea is what the form posts, so the page works without this script too. After a
// change it asks for the preview (count of machines matching now) by clicking the preview
// button, which htmx posts with the form. No inline code: the CSP forbids it.
(function () {
  "use strict";
  // Static groups' picker: a machine ticked in the search results moves to the group's list,
  // so the next search (which replaces the results) does not lose it; "tick all" does so
  // for every machine listed.
  function keep(checkbox) {
    var current = document.getElementById("mgroup-current");
    var item = checkbox.closest("li");
    if (!current || !item) return;
    var same = current.querySelector('input[value="' + checkbox.value + '"]');
    if (same) {
      same.checked = true;
      item.remove();
    } else current.appendChild(item);
  }
  document.addEventListener("change", function (e) {
    var box = e.target;
    if (box && box.matches && box.matches('#mgroup-picker input[type="checkbox"]') && box.checked) keep(box);
  });
  document.addEventListener("click", function (e) {
    var button = e.target && e.target.closest ? e.target.closest("[data-check-all]") : null;
    if (!button) return;
    var box = document.querySelector(button.getAttribute("data-check-all"));
    if (!box) return;
    box.querySelectorAll('input[type="checkbox"]').forEach(function (c) {
      c.checked = true;
      keep(c);
    });
  });

  var host = document.getElementById("query-builder");
  var textarea = document.getElementById("query");
  if (!host || !textarea) return;
  var data = JSON.parse(host.getAttribute("data-builder") || "{}");
  var fields = data.fields || {};
  var L = data.labels || {};
  var previewButton = document.getElementById("query-preview-button");
  var BLOCKS = ["all", "any", "none"];
  var VERSION_OPS = ["<", "<=", "=", ">=", ">"];
  var uid = 0;

  function blockKey(node) {
    for (var i = 0; i < BLOCKS.length; i++) if (node && Array.isArray(node[BLOCKS[i]])) return BLOCKS[i];
    return null;
  }

  var root;
  try {
    root = JSON.parse(textarea.value || "{}");
  } catch (e) {
    root = null;
  }
  if (!blockKey(root)) root = { all: root && root.field ? [root] : [] };

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function select(options, value, label) {
    var s = el("select", { "aria-label": label });
    options.forEach(function (o) {
      var opt = el("option", { value: o.value }, o.label);
      if (String(o.value) === String(value)) opt.selected = true;
      s.appendChild(opt);
    });
    return s;
  }

  function fieldOptions() {
    var bySection = {};
    var order = [];
    Object.keys(fields).forEach(function (id) {
      var f = fields[id];
      if (!bySection[f.section]) {
        bySection[f.section] = [];
        order.push(f.section);
      }
      bySection[f.section].push({ value: id, label: f.label });
    });
    return { bySection: bySection, order: order };
  }
  var grouped = fieldOptions();

  function fieldSelect(value) {
    var s = el("select", { "aria-label": L.match || "field", "data-role": "field" });
    grouped.order.forEach(function (section) {
      var og = el("optgroup", { label: section });
      grouped.bySection[section].forEach(function (o) {
        var opt = el("option", { value: o.value }, o.label);
        if (o.value === value) opt.selected = true;
        og.appendChild(opt);
      });
      s.appendChild(og);
    });
    return s;
  }

  function defaultRule(fieldId) {
    var f = fields[fieldId];
    var op = f.ops[0].value;
    if (f.kind === "software") return { field: fieldId, op: op, name: "", match: "contains" };
    if (f.kind === "bool") return { field: fieldId, op: op, value: true };
    if (f.kind === "group") return { field: fieldId, op: op, value: data.groups[0] ? Number(data.groups[0].value) : 0 };
    if (f.kind === "entity") return { field: fieldId, op: op, value: data.entities[0] ? Number(data.entities[0].value) : 1 };
    return { field: fieldId, op: op, value: "" };
  }

  function input(value, label, type) {
    var i = el("input", { type: type || "text", "aria-label": label, value: value === undefined ? "" : String(value) });
    return i;
  }

  // Draws one rule; `rule` is mutated in place and the JSON rewritten on change.
  function drawRule(rule, remove) {
    var row = el("div", { class: "qb-rule", "data-uid": String(++uid) });
    var f = fields[rule.field];
    if (!f) {
      rule.field = Object.keys(fields)[0];
      f = fields[rule.field];
    }
    var fs = fieldSelect(rule.field);
    fs.addEventListener("change", function () {
      var fresh = defaultRule(fs.value);
      Object.keys(rule).forEach(function (k) { delete rule[k]; });
      Object.assign(rule, fresh);
      row.replaceWith(drawRule(rule, remove));
      changed();
    });
    row.appendChild(fs);
    var ops = select(f.ops, rule.op, "op");
    ops.setAttribute("data-role", "op");
    ops.addEventListener("change", function () {
      rule.op = ops.value;
      row.replaceWith(drawRule(rule, remove));
      changed();
    });
    row.appendChild(ops);

    if (f.kind === "software") {
      var name = input(rule.name, L["sw.name"]);
      name.setAttribute("placeholder", L["sw.name"]);
      name.setAttribute("data-role", "value");
      name.addEventListener("input", function () { rule.name = name.value; changed(); });
      row.appendChild(name);
      var exact = el("label", { class: "qb-inline" });
      var box = el("input", { type: "checkbox" });
      box.checked = rule.match === "equals";
      box.addEventListener("change", function () { rule.match = box.checked ? "equals" : "contains"; changed(); });
      exact.appendChild(box);
      exact.appendChild(document.createTextNode(" " + L["sw.exact"]));
      row.appendChild(exact);
      var vops = [{ value: "", label: L["sw.anyVersion"] }].concat(VERSION_OPS.map(function (o) { return { value: o, label: o }; }));
      var vop = select(vops, rule.versionOp || "", L["sw.version"]);
      var ver = input(rule.version, L["sw.version"]);
      ver.setAttribute("placeholder", L["sw.version"]);
      ver.hidden = !rule.versionOp;
      vop.addEventListener("change", function () {
        rule.versionOp = vop.value || null;
        ver.hidden = !vop.value;
        if (!vop.value) delete rule.version;
        changed();
      });
      ver.addEventListener("input", function () { rule.version = ver.value; changed(); });
      row.appendChild(vop);
      row.appendChild(ver);
    } else if (f.kind === "bool") {
      var b = select([{ value: "true", label: L.yes }, { value: "false", label: L.no }], String(rule.value !== false), "value");
      b.addEventListener("change", function () { rule.value = b.value === "true"; changed(); });
      row.appendChild(b);
    } else if (f.kind === "group" || f.kind === "entity") {
      var list = f.kind === "group" ? data.groups : data.entities;
      var g = select(list, rule.value, "value");
      g.setAttribute("data-role", "value");
      g.addEventListener("change", function () { rule.value = Number(g.value); changed(); });
      if (rule.value === undefined || rule.value === 0) rule.value = list[0] ? Number(list[0].value) : 0;
      row.appendChild(g);
    } else if (!(rule.op === "empty" || rule.op === "notEmpty" || rule.op === "never")) {
      var numeric = f.kind === "number" || f.kind === "days";
      var v = input(rule.value, "value", numeric ? "number" : "text");
      v.setAttribute("data-role", "value");
      v.addEventListener("input", function () {
        rule.value = numeric && v.value !== "" ? Number(v.value) : v.value;
        changed();
      });
      row.appendChild(v);
    } else {
      delete rule.value;
    }
    var rm = el("button", { type: "button", class: "link-button danger" }, L.remove);
    rm.addEventListener("click", function () { remove(); });
    row.appendChild(rm);
    return row;
  }

  function drawBlock(block, depth, removeSelf) {
    var key = blockKey(block);
    var box = el("div", { class: "qb-block", "data-depth": String(depth) });
    var head = el("div", { class: "qb-head" });
    head.appendChild(el("span", {}, L.match));
    var kind = select(BLOCKS.map(function (b) { return { value: b, label: L[b] }; }), key, L.match);
    kind.setAttribute("data-role", "combinator");
    kind.addEventListener("change", function () {
      var items = block[key];
      delete block[key];
      block[kind.value] = items;
      box.replaceWith(drawBlock(block, depth, removeSelf));
      changed();
    });
    head.appendChild(kind);
    if (removeSelf) {
      var rmb = el("button", { type: "button", class: "link-button danger" }, L.remove);
      rmb.addEventListener("click", removeSelf);
      head.appendChild(rmb);
    }
    box.appendChild(head);
    var list = el("div", { class: "qb-items" });
    block[key].forEach(function (child, i) {
      var remove = function () {
        block[key].splice(block[key].indexOf(child), 1);
        redraw();
        changed();
      };
      list.appendChild(blockKey(child) ? drawBlock(child, depth + 1, remove) : drawRule(child, remove));
      void i;
    });
    box.appendChild(list);
    var tools = el("div", { class: "toolbar" });
    var add = el("button", { type: "button", "data-role": "add-rule" }, L.addRule);
    add.addEventListener("click", function () {
      block[key].push(defaultRule(Object.keys(fields)[0]));
      redraw();
      changed();
      var rules = host.querySelectorAll(".qb-rule [data-role=value]");
      if (rules.length) rules[rules.length - 1].focus();
    });
    tools.appendChild(add);
    if (depth < 5) {
      var addBlock = el("button", { type: "button", "data-role": "add-block" }, L.addBlock);
      addBlock.addEventListener("click", function () {
        block[key].push({ any: [defaultRule(Object.keys(fields)[0])] });
        redraw();
        changed();
      });
      tools.appendChild(addBlock);
    }
    box.appendChild(tools);
    return box;
  }

  function redraw() {
    host.replaceChildren(drawBlock(root, 1, null));
  }

  var timer = null;
  function changed() {
    textarea.value = JSON.stringify(root);
    if (timer) clearTimeout(timer);
    timer = setTimeout(function () {
      if (previewButton) previewButton.click();
    }, 400);
  }

  // Hand edits of the JSON redraw the builder when they parse.
  textarea.addEventListener("change", function () {
    try {
      var parsed = JSON.parse(textarea.value);
      if (blockKey(parsed)) {
        root = parsed;
        redraw();
      }
    } catch (e) {
      /* left as typed: the server says what is wrong */
    }
  });

  redraw();
  if (root[blockKey(root)].length && previewButton) previewButton.click();
})();
