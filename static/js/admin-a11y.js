// Accessible names that Django's admin widgets leave out (rules §12: no serious axe-core finding
// on the admin's pages either). Runs after the widgets have drawn themselves (their own load
// handlers, then this one), and again when an inline row is added.
(function () {
  "use strict";
  var labelCount = 0;
  function labelOf(field) {
    var label = field.id && document.querySelector("label[for='" + field.id + "']");
    if (label && !label.id) { label.id = "admin-a11y-label-" + (++labelCount); }
    return label;
  }
  function fix(root) {
    // Autocomplete (select2): the combobox is named by the selected value only; add the
    // field's label.
    root.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var box = select.nextElementSibling && select.nextElementSibling.querySelector(".select2-selection");
      var label = labelOf(select);
      if (!box || !label) { return; }
      var ids = (box.getAttribute("aria-labelledby") || "").split(/\s+/).filter(function (id) {
        return id && id !== label.id;
      });
      box.setAttribute("aria-labelledby", [label.id].concat(ids).join(" "));
      // Its inner text box (role=textbox) is empty until a value is chosen: the label too.
      var rendered = box.querySelector(".select2-selection__rendered[role=textbox]");
      if (rendered) { rendered.setAttribute("aria-labelledby", label.id + " " + rendered.id); }
    });
    // The filter boxes' search icons carry aria-label on a bare span: an image with a name.
    root.querySelectorAll(".selector .help-tooltip[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
    // A tabular inline's Delete box has no label: named by its column's header.
    root.querySelectorAll("td.delete input[type=checkbox]").forEach(function (box) {
      if (box.hasAttribute("aria-label") || labelOf(box)) { return; }
      var table = box.closest("table");
      var header = table && table.querySelector("thead th:last-child");
      var row = box.closest("tr");
      var name = row && row.querySelector("td.original p, td.field-ram_user, td:nth-child(2)");
      var text = (header ? header.textContent.trim() : "Delete") +
        (name && name.textContent.trim() ? " " + name.textContent.trim() : "");
      box.setAttribute("aria-label", text);
    });
    // The date shortcuts ("Today", "Now"...): their accessible name starts with the visible
    // text, as the page's language writes it.
    root.querySelectorAll(".datetimeshortcuts a[aria-label]").forEach(function (link) {
      var text = link.textContent.trim();
      var name = link.getAttribute("aria-label");
      if (text && name.indexOf(text) !== 0) {
        var rest = name.indexOf(" (") >= 0 ? name.slice(name.indexOf(" (")) : "";
        link.setAttribute("aria-label", text + rest);
      }
    });
  }
  window.addEventListener("load", function () { setTimeout(function () { fix(document); }, 0); });
  document.addEventListener("formset:added", function (event) {
    setTimeout(function () { fix(event.target.closest ? event.target.closest("table, .inline-group") || document : document); }, 0);
  });
})();
