// The conversation page's reply box: saved replies (type "/" and a shortcut, or search) and
// the "agent is typing" pings the customer's widget shows. Event delegation on the document,
// because htmx swaps the whole conversation panel after each action. No inline handlers (CSP).
(function () {
  "use strict";

  var PING_EVERY_MS = 3000; // matches conversations.typing.PING_EVERY_S
  var SLASH = /(^|\s)\/([a-z0-9_-]*)$/i;
  var lastPing = 0;
  var searchTimer = null;
  var searchSeq = 0;
  var slashRange = null; // {start, end} of the "/shortcut" typed in the reply, if that is the source
  var active = -1;

  function picker() { return document.getElementById("macro-picker"); }
  function results() { return document.getElementById("macro-results"); }
  function reply() { return document.getElementById("reply-text"); }
  function searchBox() { return document.getElementById("macro-search"); }

  function setStatus(text) {
    var status = document.getElementById("macro-status");
    if (status) status.textContent = text || "";
  }

  function options() {
    var list = results();
    return list ? Array.prototype.slice.call(list.querySelectorAll("[role=option]")) : [];
  }

  function hide() {
    var list = results();
    if (list) {
      list.hidden = true;
      list.textContent = "";
    }
    var box = searchBox();
    if (box) box.setAttribute("aria-expanded", "false");
    active = -1;
  }

  function highlight(index) {
    var items = options();
    if (!items.length) return;
    active = (index + items.length) % items.length;
    items.forEach(function (item, i) { item.setAttribute("aria-selected", i === active ? "true" : "false"); });
    var box = searchBox();
    if (box) box.setAttribute("aria-activedescendant", items[active].id);
  }

  function show(found) {
    var list = results();
    if (!list) return;
    list.textContent = "";
    found.forEach(function (item, i) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.id = "macro-option-" + item.id;
      li.dataset.macroId = String(item.id);
      li.setAttribute("aria-selected", "false");
      var title = document.createElement("strong");
      title.textContent = item.title;
      li.appendChild(title);
      if (item.shortcut) {
        var code = document.createElement("code");
        code.textContent = "/" + item.shortcut;
        li.appendChild(document.createTextNode(" "));
        li.appendChild(code);
      }
      if (item.shared) {
        var badge = document.createElement("span");
        badge.className = "muted";
        badge.textContent = " · shared";
        li.appendChild(badge);
      }
      var preview = document.createElement("span");
      preview.className = "muted macro-preview";
      preview.textContent = item.preview;
      li.appendChild(preview);
      list.appendChild(li);
      if (i === 0) active = 0;
    });
    list.hidden = found.length === 0;
    var box = searchBox();
    if (box) box.setAttribute("aria-expanded", found.length ? "true" : "false");
    if (found.length) highlight(0);
    setStatus(found.length ? "" : "No saved reply matches.");
  }

  function search(query) {
    var root = picker();
    if (!root) return;
    clearTimeout(searchTimer);
    var seq = ++searchSeq;
    searchTimer = setTimeout(function () {
      fetch(root.dataset.searchUrl + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) { if (seq === searchSeq) show(data.results || []); })
        .catch(function () { setStatus("Saved replies could not be loaded; try again."); });
    }, 120);
  }

  function remember(id) {
    var field = document.getElementById("saved-reply-ids");
    if (!field) return;
    var ids = field.value ? field.value.split(",") : [];
    if (ids.indexOf(String(id)) === -1) ids.push(String(id));
    field.value = ids.join(",");
  }

  function choose(id) {
    var root = picker();
    var box = reply();
    if (!root || !box) return;
    var range = slashRange;
    hide();
    fetch(root.dataset.fillUrl.replace(/\/0\/fill\/$/, "/" + encodeURIComponent(id) + "/fill/"), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        var value = box.value;
        var start, end;
        if (range && value.slice(range.start, range.end).charAt(0) === "/") {
          start = range.start;
          end = range.end;
        } else {
          start = box.selectionStart != null ? box.selectionStart : value.length;
          end = box.selectionEnd != null ? box.selectionEnd : value.length;
        }
        box.value = value.slice(0, start) + data.text + value.slice(end);
        var caret = start + data.text.length;
        box.focus();
        box.setSelectionRange(caret, caret);
        remember(data.id);
        slashRange = null;
        var search = searchBox();
        if (search) search.value = "";
        setStatus(
          data.missing && data.missing.length
            ? "Inserted \u201c" + data.title + "\u201d. Fill in what is in [brackets] before sending."
            : "Inserted \u201c" + data.title + "\u201d."
        );
      })
      .catch(function () { setStatus("The saved reply could not be inserted; try again."); });
  }

  function ping(box) {
    var url = box.dataset.typingUrl;
    var now = Date.now();
    if (!url || !box.value.trim() || now - lastPing < PING_EVERY_MS) return;
    lastPing = now;
    var token = box.form && box.form.querySelector("input[name=csrfmiddlewaretoken]");
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "" },
    }).catch(function () { /* a typing hint is not worth an error */ });
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target.id === "macro-search") {
      slashRange = null;
      var query = target.value.trim();
      if (query) search(query);
      else { hide(); setStatus(""); }
      return;
    }
    if (target.id !== "reply-text") return;
    ping(target);
    var caret = target.selectionStart;
    var match = SLASH.exec(target.value.slice(0, caret));
    if (match) {
      slashRange = { start: caret - match[2].length - 1, end: caret };
      search("/" + match[2]);
    } else if (slashRange) {
      slashRange = null;
      hide();
      setStatus("");
    }
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (target.id !== "reply-text" && target.id !== "macro-search") return;
    // Enter in the search box picks a reply; it never sends the half-written reply.
    if (target.id === "macro-search" && event.key === "Enter") event.preventDefault();
    var list = results();
    if (!list || list.hidden || !options().length) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      highlight(active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter" || (event.key === "Tab" && target.id === "reply-text")) {
      event.preventDefault();
      var item = options()[active < 0 ? 0 : active];
      if (item) choose(item.dataset.macroId);
    } else if (event.key === "Escape") {
      event.preventDefault();
      hide();
    }
  });

  // mousedown, not click: the reply box keeps its caret position.
  document.addEventListener("mousedown", function (event) {
    var item = event.target.closest ? event.target.closest("#macro-results [role=option]") : null;
    if (!item) return;
    event.preventDefault();
    choose(item.dataset.macroId);
  });
})();
