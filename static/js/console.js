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
  // A dialog loaded by htmx into #modal-host is shown as a Bootstrap modal; a response that
  // carries HX-Trigger "closeModal" hides it.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id === "modal-host") {
      var modalEl = event.detail.target.querySelector(".modal");
      if (modalEl) { bootstrap.Modal.getOrCreateInstance(modalEl).show(); }
    }
  });
  // Focus after an htmx swap that replaced what had it (a dialog's form answered again):
  // the first field in error when the submit was refused (SPEC 12), else a region marked
  // data-focus-after-swap (the Test results), so that what changed is read out.
  document.body.addEventListener("htmx:afterSettle", function (event) {
    // A dialog that opens in #modal-host gets focus from Bootstrap's modal instead.
    var root = event.target;
    if (!root || root.id === "modal-host" || !root.isConnected || !root.querySelector) { return; }
    // A dialog's content replaced in place (Request permission in the New Contact panel): the
    // dialog is named by its new title.
    var title = root.matches(".modal-content") && root.querySelector(".modal-title[id]");
    if (title) { root.closest(".modal").setAttribute("aria-labelledby", title.id); }
    var target = event.detail.xhr && event.detail.xhr.status === 422
      ? root.querySelector("[aria-invalid=true], .is-invalid") : null;
    target = target || root.querySelector("[data-focus-after-swap]");
    if (target) { target.focus(); }
  });
  document.body.addEventListener("closeModal", function () {
    var modalEl = document.querySelector("#modal-host .modal");
    if (modalEl) { bootstrap.Modal.getOrCreateInstance(modalEl).hide(); }
  });
  // A htmx response that carries an error status still shows its fragment (form errors).
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 422) { event.detail.shouldSwap = true; event.detail.isError = false; }
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
  // New Contact (contacts app): typing the Alibaba Cloud account or picking a RAM user selects
  // that kind of username, so the radio never contradicts what was filled in.
  function pickUsernameKind(event) {
    var el = event.target;
    if (!el.form || !el.closest || !el.closest("[data-username-group]")) { return; }
    var kind = el.name === "username" ? "account" : (el.name === "ram_user" ? "ram_user" : null);
    var radio = kind && el.form.querySelector('input[name="username_kind"][value="' + kind + '"]');
    if (radio && el.value) { radio.checked = true; }
  }
  document.addEventListener("input", pickUsernameKind);
  document.addEventListener("change", pickUsernameKind);
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
    alert.setAttribute("role", "alert");
    alert.textContent = text;
    var close = document.createElement("button");
    close.type = "button"; close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert"); close.setAttribute("aria-label", "Close");
    alert.appendChild(close);
    host.appendChild(alert);
    var modalEl = document.querySelector("#modal-host .modal");
    if (modalEl) { bootstrap.Modal.getOrCreateInstance(modalEl).hide(); }
  });
})();
