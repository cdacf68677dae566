// Quick actions and Wake-on-LAN pages: a checkbox[data-select-all="<name>"] checks or
// unchecks every checkbox named <name> in its form.
(function () {
  "use strict";
  document.addEventListener("change", function (e) {
    var box = e.target;
    if (!box || !box.matches || !box.matches("input[data-select-all]")) return;
    var form = box.form || document;
    form.querySelectorAll('input[type="checkbox"][name="' + box.getAttribute("data-select-all") + '"]').forEach(function (c) { c.checked = box.checked; });
  });
})();
