// SupportOps: the little behaviour htmx does not give us. No build step.
(function () {
  "use strict";

  // htmx does not swap error responses; say so instead of failing silently.
  document.addEventListener("htmx:responseError", function (event) {
    var box = document.getElementById("htmx-error");
    if (!box) return;
    var xhr = event.detail.xhr;
    var status = xhr.status;
    // Our 403 and 404 answers to htmx carry a small fragment that says what happened.
    if (/data-error-fragment/.test(xhr.responseText || "")) {
      box.innerHTML = xhr.responseText;
      box.hidden = false;
      return;
    }
    box.textContent =
      status === 403
        ? "Your role does not allow this action."
        : "Something went wrong (HTTP " + status + "). Please reload the page and try again.";
    box.hidden = false;
  });

  document.addEventListener("htmx:sendError", function () {
    var box = document.getElementById("htmx-error");
    if (!box) return;
    box.textContent = "The server could not be reached. Check your connection and try again.";
    box.hidden = false;
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var box = document.getElementById("htmx-error");
    if (box && event.detail.successful) box.hidden = true;
  });

  // Close the workspace switcher when clicking elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.switcher[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
})();
