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
        : status === 503
          ? "SupportOps is briefly unavailable and nothing was saved. Try again in a few seconds."
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

  // No inline handlers anywhere (the Content-Security-Policy forbids them): behaviour is
  // declared with data attributes and wired up here.

  // A form marked data-reset-on-success empties itself after a successful htmx request.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.matches && form.matches("form[data-reset-on-success]") && event.detail.successful) {
      form.reset();
    }
  });

  // data-copy-from / data-copy-to: put one field's text into another (e.g. into the reply).
  // data-copy-text: copy the named element's text to the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy-from], [data-copy-text]") : null;
    if (!button) return;
    if (button.dataset.copyFrom) {
      var from = document.getElementById(button.dataset.copyFrom);
      var to = document.getElementById(button.dataset.copyTo);
      if (from && to) {
        to.value = from.value;
        to.focus();
      }
      return;
    }
    var source = document.getElementById(button.dataset.copyText);
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent;
    var status = button.dataset.copyStatus ? document.getElementById(button.dataset.copyStatus) : null;
    var done = function (ok) {
      if (status) status.textContent = ok ? "Copied." : "Select the text and copy it with Ctrl+C.";
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
    } else {
      done(false);
    }
  });

  // A form with data-confirm asks first (e.g. rotating the widget key).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // Close the workspace switcher when clicking elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.switcher[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
})();
