/* A few progressive enhancements; every page works without them. */
(function () {
  "use strict";

  // Move focus to the error summary so keyboard and screen-reader users hear it first.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }

  // Guard against double submission (a double click must not post twice).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-submit-once]")) { return; }
    if (form.dataset.submitted === "yes") { event.preventDefault(); return; }
    form.dataset.submitted = "yes";
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      if (button.dataset.busyLabel) {
        button.dataset.idleLabel = button.textContent;
        button.textContent = button.dataset.busyLabel;
      }
      button.setAttribute("aria-disabled", "true");
    });
  });

  // Coming back with the Back button: the form may be sent again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      delete form.dataset.submitted;
      form.querySelectorAll("button[aria-disabled]").forEach(function (button) {
        button.removeAttribute("aria-disabled");
        if (button.dataset.idleLabel) { button.textContent = button.dataset.idleLabel; }
      });
    });
  });
})();
