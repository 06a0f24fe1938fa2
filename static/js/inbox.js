// SupportOps inbox, on every page of an agent, manager or admin (base.html loads it with
// the alerts URL): counts on the inbox tabs, "(3)" in the page title for the conversations
// waiting for my reply, browser notifications and an optional sound; and the conversation
// page's phone layout. The server decides what is new (GET alerts/?since=<its last now>);
// this file only shows it, each alert once. No inline script anywhere (CSP).
(function () {
  "use strict";

  var script = document.currentScript;
  var alertsUrl = script && script.dataset.alertsUrl;
  var POLL_MS = 12000;
  var CURSOR_KEY = "supportops.alerts.cursor";
  var SEEN_KEY = "supportops.alerts.seen";
  var CURSOR_MAX_AGE_MS = 5 * 60 * 1000; // an older cursor (a tab left closed) starts afresh
  var SEEN_LIMIT = 300;
  var MAX_NOTIFICATIONS = 3; // per poll; more become one summary
  var prefs = { notify: true, sound: false };
  var audio = null;
  var baseTitle = document.title.replace(/^\(\d+\+?\)\s*/, "");

  // --- Cursor and the alerts already shown, kept for this tab across pages ---------------
  function store() {
    try {
      return window.sessionStorage;
    } catch (e) {
      return null;
    }
  }

  function readJson(key, fallback) {
    var s = store();
    if (!s) return fallback;
    try {
      var value = JSON.parse(s.getItem(key) || "null");
      return value === null ? fallback : value;
    } catch (e) {
      return fallback;
    }
  }

  function writeJson(key, value) {
    var s = store();
    if (!s) return;
    try {
      s.setItem(key, JSON.stringify(value));
    } catch (e) {
      /* storage full or disabled: alerts still work, only per page */
    }
  }

  function cursor() {
    var saved = readJson(CURSOR_KEY, null);
    if (saved && saved.url === alertsUrl && Date.now() - saved.savedAt < CURSOR_MAX_AGE_MS) {
      return saved.now;
    }
    return null;
  }

  function firstSeen(key) {
    var seen = readJson(SEEN_KEY, []);
    if (seen.indexOf(key) !== -1) return false;
    seen.push(key);
    writeJson(SEEN_KEY, seen.slice(-SEEN_LIMIT));
    return true;
  }

  // --- Sound: a short two-note chime made with WebAudio (no audio file) ------------------
  // Browsers only let a page play sound after the person has interacted with it.
  function unlockAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (!audio) audio = new Context();
    if (audio.state === "suspended") audio.resume();
  }

  function chime() {
    if (!audio || audio.state !== "running") return false;
    var start = audio.currentTime + 0.01;
    [880, 660].forEach(function (frequency, i) {
      var at = start + i * 0.18;
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.16);
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start(at);
      osc.stop(at + 0.17);
    });
    return true;
  }

  ["pointerdown", "keydown"].forEach(function (type) {
    document.addEventListener(type, unlockAudio, { once: true, capture: true });
  });

  // --- Notifications ------------------------------------------------------------------
  function supported() {
    return "Notification" in window;
  }

  function showNotification(title, body, url, tag) {
    if (!prefs.notify || !supported() || Notification.permission !== "granted") return;
    try {
      var note = new Notification(title, { body: body || "", tag: tag });
      note.onclick = function () {
        window.focus();
        if (url) window.location.href = url;
        note.close();
      };
    } catch (e) {
      /* e.g. Android Chrome wants a service worker; the title and tabs still count */
    }
  }

  function updateControls() {
    var state = !supported()
      ? "This browser cannot show notifications."
      : !prefs.notify
        ? "Browser notifications are off in your alert settings."
        : Notification.permission === "granted"
          ? "Notifications are on in this browser."
          : Notification.permission === "denied"
            ? "Notifications are blocked for this site in the browser's settings."
            : "";
    document.querySelectorAll("[data-enable-notifications]").forEach(function (button) {
      button.hidden = !(supported() && prefs.notify && Notification.permission === "default");
    });
    document.querySelectorAll("[data-notifications-state]").forEach(function (label) {
      label.textContent = state;
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : null;
    if (!target) return;
    if (target.closest("[data-enable-notifications]")) {
      unlockAudio();
      if (!supported()) return updateControls();
      // Asked only now, after the person chose to (never on page load).
      var asked = Notification.requestPermission(updateControls);
      if (asked && asked.then) asked.then(updateControls);
    } else if (target.closest("[data-test-sound]")) {
      unlockAudio();
      // resume() is asynchronous; give it a moment before playing.
      window.setTimeout(chime, 50);
    }
  });

  // --- Counts, title and new alerts ---------------------------------------------------
  function setCounts(data) {
    var tabs = data.tabs || {};
    Object.keys(tabs).forEach(function (name) {
      document.querySelectorAll('[data-tab-count="' + name + '"]').forEach(function (el) {
        el.textContent = String(tabs[name].count);
      });
      document.querySelectorAll('[data-tab-overdue-count="' + name + '"]').forEach(function (el) {
        el.textContent = String(tabs[name].overdue);
      });
      document.querySelectorAll('[data-tab-overdue="' + name + '"]').forEach(function (el) {
        el.hidden = !tabs[name].overdue;
      });
    });
    var waiting = data.waiting_for_me || 0;
    var shown = waiting > 99 ? "99+" : String(waiting);
    document.title = (waiting ? "(" + shown + ") " : "") + baseTitle;
  }

  function announce(events) {
    var fresh = events.filter(function (event) {
      return firstSeen(event.key);
    });
    if (!fresh.length) return;
    fresh.slice(0, MAX_NOTIFICATIONS).forEach(function (event) {
      showNotification(event.title, event.body || event.customer, event.url, event.key);
    });
    if (fresh.length > MAX_NOTIFICATIONS) {
      var more = fresh.length - MAX_NOTIFICATIONS;
      showNotification("SupportOps", more + " more update" + (more === 1 ? "" : "s") + " in your inbox", null, "more");
    }
    if (prefs.sound) chime();
  }

  var timer = null;
  var polling = false;

  function poll() {
    if (!alertsUrl || !window.fetch || polling) return;
    window.clearTimeout(timer);
    polling = true;
    var since = cursor();
    var url = alertsUrl + (since ? "?since=" + encodeURIComponent(since) : "");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data) return;
        prefs = data.prefs || prefs;
        writeJson(CURSOR_KEY, { url: alertsUrl, now: data.now, savedAt: Date.now() });
        setCounts(data);
        (data.seen || []).forEach(firstSeen);
        announce(data.events || []);
        updateControls();
      })
      .catch(function () {
        /* offline for a moment: the next poll catches up */
      })
      .then(function () {
        polling = false;
        timer = window.setTimeout(poll, POLL_MS);
      });
  }

  // Something changed here (online, a claim, a reply, a resolve): recount now, not later.
  document.addEventListener("htmx:afterRequest", function (event) {
    var config = event.detail.requestConfig;
    if (event.detail.successful && config && config.verb && config.verb !== "get") poll();
  });

  // --- Conversation page on a phone: packet folded, transcript at its latest message ----
  var narrow = window.matchMedia ? window.matchMedia("(max-width: 600px)") : null;
  var transcriptAtBottom = true;

  function layout(root) {
    if (!root.querySelectorAll) return;
    if (narrow && narrow.matches) {
      root.querySelectorAll("details[data-fold-narrow][open]").forEach(function (details) {
        details.removeAttribute("open");
      });
    }
    var transcript = root.id === "transcript" ? root : root.querySelector("#transcript");
    if (transcript && transcriptAtBottom) transcript.scrollTop = transcript.scrollHeight;
  }

  // Wider again (a rotated tablet): the packet opens, as its toggle is hidden there.
  if (narrow && narrow.addEventListener) {
    narrow.addEventListener("change", function () {
      if (narrow.matches) return;
      document.querySelectorAll("details[data-fold-narrow]").forEach(function (details) {
        details.setAttribute("open", "");
      });
    });
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var old = event.detail.target;
    if (old && old.id === "transcript") {
      transcriptAtBottom = old.scrollHeight - old.scrollTop - old.clientHeight < 40;
    }
  });
  document.addEventListener("htmx:load", function (event) {
    layout(event.detail.elt);
  });

  function start() {
    layout(document);
    updateControls();
    poll();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
