// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
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
  document.body.addEventListener("closeModal", function () {
    var modalEl = document.querySelector("#modal-host .modal");
    if (modalEl) { bootstrap.Modal.getOrCreateInstance(modalEl).hide(); }
  });
  // A htmx response that carries an error status still shows its fragment (form errors).
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 422) { event.detail.shouldSwap = true; event.detail.isError = false; }
  });
})();
