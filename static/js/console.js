// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Mark the page as scripted: controls that only work with JavaScript (the Close button of a
  // message, data-bs-dismiss) are hidden by console.css until this runs.
  document.documentElement.classList.add("js");
  // Selects marked data-autosubmit submit their form on change (language switch).
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]")) { el.form.submit(); }
  });

  // --- Panels and dialogs (rules §12) ---------------------------------------------------------
  // A dialog loaded by htmx into #modal-host is shown as a Bootstrap modal (partials/dialog.html)
  // or, for the product page's side panels (New Contact, Add Authorization), as a Bootstrap
  // offcanvas sliding in from the right (partials/panel.html). Both are modal dialogs and this
  // file treats them alike, through dialogOf(): Bootstrap moves focus into them and keeps it
  // there (Tab wraps; Escape closes). This file adds what Bootstrap cannot know: focus stays
  // inside when htmx replaces the part of the dialog that had it (a refused submit: the first
  // invalid field takes it and the errors are announced), and when the dialog closes (Escape,
  // Cancel, or a Confirm that succeeded) focus goes back to the control that opened it, found
  // again by its URL when the list it was in was reloaded.
  var FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden])," +
    " select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";
  // Open, or on its way in: an offcanvas is .showing until its slide ends, .hiding on its way out.
  var OPEN_DIALOG = "#modal-host .modal.show, #modal-host .offcanvas.showing," +
    " #modal-host .offcanvas.show:not(.hiding)";
  var opener = null;      // the control that opened the dialog now open
  var returnKey = null;   // its URL (hx-get), to find it again in a reloaded list
  var returning = null;   // {key, until}: focus still on its way back after a close

  function openDialog() { return document.querySelector(OPEN_DIALOG); }
  // The Bootstrap component of a dialog element: a side panel or a modal.
  function dialogOf(el) {
    return el.classList.contains("offcanvas")
      ? bootstrap.Offcanvas.getOrCreateInstance(el)
      : bootstrap.Modal.getOrCreateInstance(el);
  }
  function closeOpenDialog() {
    var dialogEl = openDialog();
    if (dialogEl) { dialogOf(dialogEl).hide(); }
  }
  function visible(el) { return !!(el && el.isConnected && el.getClientRects().length); }
  function keyOf(el) {
    return el && (el.getAttribute("hx-get") || el.getAttribute("hx-post") || el.getAttribute("href"));
  }
  function findByKey(key) {
    if (!key) { return null; }
    var candidates = document.querySelectorAll("[hx-get], [hx-post], a[href]");
    for (var i = 0; i < candidates.length; i++) {
      if (keyOf(candidates[i]) === key && visible(candidates[i]) &&
          !candidates[i].closest("#modal-host")) { return candidates[i]; }
    }
    return null;
  }
  function pageHeading() {
    var heading = document.querySelector("#main h1, main h1");
    if (heading && !heading.hasAttribute("tabindex")) { heading.setAttribute("tabindex", "-1"); }
    return heading;
  }
  function focusLost() {
    var active = document.activeElement;
    return !active || active === document.body || !active.isConnected;
  }

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target && target.id === "modal-host" && !openDialog()) {
      // A form that opens a dialog (the Script Editor's Confirm) was opened by its button.
      var config = event.detail.requestConfig;
      var submitter = config && config.triggeringEvent && config.triggeringEvent.submitter;
      opener = submitter || event.detail.elt;
      returnKey = keyOf(opener);
    }
  });
  function nameDialog(dialogEl) {
    // A dialog's content replaced in place (Request permission in the New Contact panel): the
    // dialog is named by its new title.
    var title = dialogEl && dialogEl.querySelector(".modal-title[id], .offcanvas-title[id]");
    if (title) { dialogEl.setAttribute("aria-labelledby", title.id); }
  }
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id === "modal-host") {
      var dialogEl = event.detail.target.querySelector(".modal, .offcanvas");
      if (dialogEl) { dialogOf(dialogEl).show(); }
    } else {
      nameDialog(openDialog());
    }
  });
  function dialogClosed(event) {
    if (!event.target.closest || !event.target.closest("#modal-host")) { return; }
    var key = returnKey;
    var target = visible(opener) ? opener : findByKey(key);
    opener = null;
    returnKey = null;
    // The list the opener was in may be reloaded next (contactsChanged): focus follows it.
    returning = { key: key, until: Date.now() + 3000 };
    (target || pageHeading() || document.body).focus();
  }
  document.addEventListener("hidden.bs.modal", dialogClosed);
  document.addEventListener("hidden.bs.offcanvas", dialogClosed);
  // After a Confirm that reloads the page (HX-Redirect: Merge Contacts, Delete ARMS contact),
  // the opener is looked for again on the page it lands on.
  document.body.addEventListener("htmx:beforeOnLoad", function (event) {
    var xhr = event.detail.xhr;
    var redirect = xhr && xhr.getResponseHeader("HX-Redirect");
    if (redirect && openDialog() && returnKey) {
      try {
        sessionStorage.setItem("console.returnFocus", JSON.stringify({ path: redirect, key: returnKey }));
      } catch (e) { /* storage disabled: focus starts at the top, as on any page */ }
    }
  });
  // A dialog's link that reloads the page it was opened on (Merge Contacts' Close): focus goes
  // back to the opener there, as after an HX-Redirect.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-return-focus]");
    if (!link || !returnKey) { return; }
    var target = new URL(link.href, location.href);
    try {
      sessionStorage.setItem("console.returnFocus",
        JSON.stringify({ path: target.pathname + target.search, key: returnKey }));
    } catch (e) { /* storage disabled: focus starts at the top */ }
  });
  (function returnFocusAfterRedirect() {
    var saved = null;
    try {
      saved = JSON.parse(sessionStorage.getItem("console.returnFocus") || "null");
      sessionStorage.removeItem("console.returnFocus");
    } catch (e) { return; }
    if (saved && saved.path === location.pathname + location.search) {
      var target = findByKey(saved.key) || pageHeading();
      if (target) { target.focus(); }
    }
  })();
  // The server's HX-Trigger closeModal closes whichever is open, side panel or modal.
  document.body.addEventListener("closeModal", closeOpenDialog);
  // Escape closes the open dialog even if focus was lost to the page behind it (Bootstrap
  // listens on the dialog only). Tab and Shift+Tab wrap around inside the dialog: Bootstrap's
  // trap catches focus that lands on the page behind, but not focus that leaves the document
  // (the dialog is the last thing in it).
  function tabbables(dialogEl) {
    return Array.prototype.filter.call(dialogEl.querySelectorAll(FOCUSABLE), function (el) {
      return visible(el) && !el.closest("noscript, [hidden], [inert]");
    });
  }
  document.addEventListener("keydown", function (event) {
    var dialogEl = openDialog();
    if (!dialogEl) { return; }
    if (event.key === "Escape" && !dialogEl.contains(document.activeElement)) {
      dialogOf(dialogEl).hide();
      return;
    }
    if (event.key !== "Tab") { return; }
    var items = tabbables(dialogEl);
    if (!items.length) { event.preventDefault(); dialogEl.focus(); return; }
    var first = items[0];
    var last = items[items.length - 1];
    var active = document.activeElement;
    var outside = !dialogEl.contains(active) || active === dialogEl;
    if (event.shiftKey && (active === first || outside)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (active === last || !dialogEl.contains(active))) {
      event.preventDefault();
      first.focus();
    }
  });

  // A refused submit, read out: "Not saved. Check: Phone Number, Mailbox." (the page's
  // language, from data-refused on <body>). The messages themselves are read with each field
  // as focus reaches it (aria-describedby), and an error of no field is an alert.
  function refusalSummary(root) {
    var names = [];
    root.querySelectorAll("[aria-invalid=true]").forEach(function (field) {
      var label = field.id && root.querySelector("label[for='" + field.id + "']");
      var group = field.closest("fieldset");
      var legend = group && group.querySelector("legend");
      var choice = field.type === "checkbox" || field.type === "radio";
      var named = choice ? (legend || label) : (label || legend);
      var name = named ? named.textContent.replace(/\*/g, "").replace(/\s+/g, " ").trim() : "";
      if (name && names.indexOf(name) < 0) { names.push(name); }
    });
    var data = document.body.dataset;
    if (!names.length) { return data.refusedNoField || ""; }
    return (data.refused || "{fields}").replace("{fields}", names.join(data.listSeparator || ", "));
  }
  function announce(dialogEl, text) {
    var region = dialogEl.querySelector("[data-dialog-announcer]");
    if (!region) {
      region = document.createElement("div");
      region.className = "visually-hidden";
      region.setAttribute("data-dialog-announcer", "");
      region.setAttribute("aria-live", "assertive");
      region.setAttribute("aria-atomic", "true");
      dialogEl.appendChild(region);
    }
    // Emptied first, so that the same errors after a second refused submit are read again.
    region.textContent = "";
    setTimeout(function () { region.textContent = text; }, 50);
  }

  // A region marked data-focus-after-swap that filled in piece by piece (the Test dialog's
  // rows each send their own channel): once its last "Sending…" row has answered, it takes
  // focus, as it did when one answer brought every result.
  function settledRegion(root) {
    var region = root.closest && root.closest("[data-focus-after-swap]");
    return region && !region.querySelector("[data-testid=test-pending]") ? region : null;
  }

  // Focus after an htmx swap that replaced what had it (a dialog's form answered again):
  // the first field in error when the submit was refused (rules §12), else a region marked
  // data-focus-after-swap (the Test results), so that what changed is read out.
  document.body.addEventListener("htmx:afterSettle", function (event) {
    var root = event.target;
    if (!root || !root.isConnected || !root.querySelector) { return; }
    var dialogEl = openDialog();
    if (root.id === "modal-host") { return; }  // a dialog that opens gets focus from Bootstrap
    if (dialogEl && dialogEl.contains(root)) {
      nameDialog(dialogEl);
      var refused = event.detail.xhr && event.detail.xhr.status === 422;
      var target = refused
        ? root.querySelector("[aria-invalid=true], .is-invalid") ||
          root.querySelector("[role=alert][tabindex], [data-testid=form-errors]")
        : null;
      target = target || root.querySelector("[data-focus-after-swap]") || settledRegion(root);
      if (refused) {
        var text = refusalSummary(root);
        if (text) { announce(dialogEl, text); }
      }
      if (target) {
        if (!target.matches(FOCUSABLE) && !target.hasAttribute("tabindex")) {
          target.setAttribute("tabindex", "-1");
        }
        target.focus();
      } else if (!dialogEl.contains(document.activeElement)) {
        dialogEl.focus();  // never the page behind the dialog: Escape and Tab go on working
      }
      return;
    }
    // A form of the page answered again after a refused submit (the Script Editor of Create
    // Policy): its first field in error takes focus, as on a plain page.
    if (event.detail.xhr && event.detail.xhr.status === 422) {
      var invalidField = root.querySelector("[aria-invalid=true]");
      if (invalidField) { invalidField.focus(); return; }
    }
    // Focus on its way back from a closed dialog, and the list it was in was just reloaded.
    if (returning && Date.now() < returning.until && focusLost()) {
      var back = findByKey(returning.key) || pageHeading();
      returning = null;
      if (back) { back.focus(); }
    }
  });
  // A htmx response that carries an error status still shows its fragment (form errors).
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 422) { event.detail.shouldSwap = true; event.detail.isError = false; }
  });

  // --- Messages (#messages, a polite live region) ---------------------------------------------
  // Messages are appended to the live region, never replace it (partials/messages.html with
  // oob appends), so each is read out; only the newest few are kept on screen.
  var KEEP_MESSAGES = 3;
  document.body.addEventListener("htmx:oobAfterSwap", function (event) {
    var host = document.getElementById("messages");
    if (!host || event.detail.target !== host) { return; }
    while (host.children.length > KEEP_MESSAGES) { host.removeChild(host.firstElementChild); }
  });
  // A button with data-copy-target copies that field's text (the Alertmanager snippet); it
  // says "Copied" for a moment, and the field stays selectable for a manual copy.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy-target]");
    if (!button) { return; }
    var field = document.getElementById(button.getAttribute("data-copy-target"));
    if (!field) { return; }
    field.select();
    var label = button.textContent;
    var done = function () {
      button.textContent = button.getAttribute("data-copied") || label;
      setTimeout(function () { button.textContent = label; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {});
    } else if (document.execCommand && document.execCommand("copy")) {
      done();
    }
  });
  // New Contact (contacts app): the Username radio decides which input is active; the other
  // is disabled and cleared (the server ignores it too, contacts.forms.NewContactForm).
  function syncUsernameKind(group) {
    var checked = group.querySelector('input[name="username_kind"]:checked');
    if (!checked) { return; }
    [["username", "account"], ["ram_user", "ram_user"]].forEach(function (pair) {
      var input = group.querySelector('[name="' + pair[0] + '"]');
      if (!input) { return; }
      var active = checked.value === pair[1];
      if (!active && !input.disabled) {
        if (input.tagName === "SELECT") {
          // Back to the empty choice ("Select from the drop-down list") when there is one.
          if (input.options.length && input.options[0].value === "") { input.selectedIndex = 0; }
        } else {
          input.value = "";
        }
      }
      input.disabled = !active;
    });
  }
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.name === "username_kind" && el.closest && el.closest("[data-username-group]")) {
      syncUsernameKind(el.closest("[data-username-group]"));
    }
  });
  document.body.addEventListener("htmx:load", function (event) {
    var root = event.target;
    var groups = root.matches && root.matches("[data-username-group]")
      ? [root] : root.querySelectorAll("[data-username-group]");
    Array.prototype.forEach.call(groups, syncUsernameKind);
  });
  // A refused htmx request (403, 404, 5xx) would otherwise show nothing: say so in #messages.
  // The texts come from the page (data-refusal-* on <body>), so they are in its language.
  function refusalText(status) {
    var data = document.body.dataset;
    var known = { 403: data.refusal403, 404: data.refusal404, 429: data.refusal429 };
    return known[status] || (data.refusalOther || "Error ({status})").replace("{status}", status);
  }
  document.body.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    if (status === 422) { return; }
    var text = refusalText(status);
    var host = document.getElementById("messages");
    if (!host) { return; }
    var alert = document.createElement("div");
    alert.className = "alert alert-danger alert-dismissible fade show";
    alert.textContent = text;
    var close = document.createElement("button");
    close.type = "button"; close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", document.body.dataset.closeLabel || "Close");
    alert.appendChild(close);
    host.appendChild(alert);
    while (host.children.length > KEEP_MESSAGES) { host.removeChild(host.firstElementChild); }
    closeOpenDialog();
  });
  // Tooltips (the contact table's robot cells: the whole masked URL), on hover and on keyboard
  // focus; htmx:load fires for the page and for every piece htmx swaps in.
  document.body.addEventListener("htmx:load", function (event) {
    if (!window.bootstrap) { return; }
    event.target.querySelectorAll("[data-bs-toggle=tooltip]").forEach(function (el) {
      bootstrap.Tooltip.getOrCreateInstance(el);
    });
  });
  // Escape hides a tooltip a focus showed (WCAG 1.4.13: dismissable without moving focus).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !window.bootstrap) { return; }
    var el = document.activeElement;
    var tip = el && el.matches && el.matches("[data-bs-toggle=tooltip]") && bootstrap.Tooltip.getInstance(el);
    if (tip) { tip.hide(); }
  });
  // --- Script Editor (RAM policies) --------------------------------------------------------
  // Line numbers beside the document (the errors say "line 3"), and the error cleared as soon as
  // the document is fixed: valid JSON with Version "1" and statements that each have an Effect
  // of Allow or Deny, an Action and a Resource (the server checks everything again on Confirm).
  function statementOk(st) {
    var filled = function (v) {
      return typeof v === "string" ? v.trim() !== "" : Array.isArray(v) && v.length > 0 &&
        v.every(function (x) { return typeof x === "string" && x.trim() !== ""; });
    };
    return st && typeof st === "object" && (st.Effect === "Allow" || st.Effect === "Deny") &&
      filled(st.Action) && filled(st.Resource);
  }
  function documentLooksFixed(text) {
    var doc;
    try { doc = JSON.parse(text); } catch (e) { return false; }
    return !!doc && doc.Version === "1" && Array.isArray(doc.Statement) &&
      doc.Statement.length > 0 && doc.Statement.every(statementOk);
  }
  function numberLines(editor, gutter) {
    var count = editor.value.split("\n").length;
    if (gutter.dataset.lines === String(count)) { return; }
    gutter.dataset.lines = String(count);
    var text = [];
    for (var i = 1; i <= count; i++) { text.push(i); }
    gutter.textContent = text.join("\n");
    gutter.scrollTop = editor.scrollTop;
  }
  function clearEditorError(editor) {
    if (editor.getAttribute("aria-invalid") !== "true" || !documentLooksFixed(editor.value)) { return; }
    editor.removeAttribute("aria-invalid");
    editor.classList.remove("is-invalid");
    var errors = document.getElementById(editor.id + "_error");
    if (errors) { errors.remove(); }
    var form = editor.form;
    var summary = form && form.querySelector(".alert-danger[role=alert]");
    if (summary) { summary.remove(); }
  }
  function enhanceScriptEditor(editor) {
    if (editor.dataset.enhanced) { return; }
    editor.dataset.enhanced = "1";
    editor.setAttribute("wrap", "off");  // one text line per number
    var frame = document.createElement("div");
    frame.className = "script-editor-frame";
    var gutter = document.createElement("pre");
    gutter.className = "script-editor-gutter";
    gutter.setAttribute("aria-hidden", "true");
    gutter.setAttribute("data-testid", "script-editor-lines");
    editor.parentNode.insertBefore(frame, editor);
    frame.appendChild(gutter);
    frame.appendChild(editor);
    numberLines(editor, gutter);
    editor.addEventListener("input", function () {
      numberLines(editor, gutter);
      clearEditorError(editor);
    });
    editor.addEventListener("scroll", function () { gutter.scrollTop = editor.scrollTop; });
  }
  document.body.addEventListener("htmx:load", function (event) {
    var root = event.target;
    var editors = root.matches && root.matches("textarea.script-editor")
      ? [root] : root.querySelectorAll("textarea.script-editor");
    Array.prototype.forEach.call(editors, enhanceScriptEditor);
  });
  // A plain page answered after a refused submit (no htmx: the Script Editor, or any page
  // without JavaScript's help): the first field in error takes focus, as in a dialog.
  var invalid = document.querySelector("main [aria-invalid=true]");
  if (invalid && !openDialog()) { invalid.focus(); }
})();
