// Dark mode follows the system setting (prefers-color-scheme) through Bootstrap 5.3's colour
// modes. Loaded in <head>, before the body paints, so a dark system never sees a white flash;
// a file of our own rather than an inline script, which the CSP would refuse without a nonce.
(function () {
  "use strict";
  var query = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  function apply() {
    document.documentElement.setAttribute("data-bs-theme", query && query.matches ? "dark" : "light");
  }
  apply();
  if (query && query.addEventListener) { query.addEventListener("change", apply); }
})();
