/*
 * SupportOps chat widget. Embed with one tag:
 *
 *   <script src="https://support.example.com/widget.js" data-workspace="pk_..." async></script>
 *
 * Signed-in customers: add data-customer-id, data-customer-email, data-customer-name,
 * data-signature-expires (Unix seconds) and data-signature: hex HMAC-SHA256, with the
 * workspace secret, of id, email, name and expiry joined by newlines, computed on the host
 * site's server (README: "Signed-in customers"). Plain JavaScript, no build step; it talks
 * only to the origin it was loaded from, and everything it draws lives in a shadow root with
 * its own stylesheet.
 */
(() => {
  "use strict";

  const VERSION = "1";
  const script = document.currentScript;
  if (!script || !script.src) return;
  const data = script.dataset;
  const workspaceKey = (data.workspace || "").trim();
  const log = (...args) => console.warn("SupportOps widget:", ...args);
  if (!/^pk_[A-Za-z0-9_-]{4,40}$/.test(workspaceKey)) {
    log("data-workspace must be the workspace's public key (pk_...).");
    return;
  }
  const registry = (window.__supportopsWidgets = window.__supportopsWidgets || {});
  if (registry[workspaceKey]) return; // the tag was included twice
  registry[workspaceKey] = true;

  const ORIGIN = new URL(script.src, location.href).origin;
  const API = `${ORIGIN}/api/widget/v1/workspaces/${encodeURIComponent(workspaceKey)}`;
  const MAX_CHARS = 4000;
  const POLL_OPEN_MS = 1000;
  const POLL_CLOSED_MS = 15000;
  const TYPING_PING_MS = 3000; // "the customer is typing", at most this often
  const MAX_BACKOFF_MS = 30000;
  const RECONNECTING = "Reconnecting\u2026";
  const STATUS_TEXT = {
    bot: "AI assistant \u00b7 a person can take over at any time",
    handed_off: "Waiting for a person from our team",
    with_agent: "You are chatting with our team",
    with_person: (name) => `Chatting with ${name}`,
    resolved: "This chat has ended",
  };

  const customer = data.customerId
    ? {
        id: data.customerId,
        name: data.customerName || "",
        email: data.customerEmail || "",
        expires: Number(data.signatureExpires) || null,
        signature: data.signature || "",
      }
    : null;

  // ---------------------------------------------------------------- storage (host's origin)
  const store = (() => {
    const memory = new Map();
    let local = null;
    try {
      local = window.localStorage;
      local.setItem("supportops:probe", "1");
      local.removeItem("supportops:probe");
    } catch (_) {
      local = null; // blocked storage: the conversation lasts as long as the page
    }
    return {
      get(name) {
        try {
          const raw = local ? local.getItem(name) : memory.get(name);
          return raw ? JSON.parse(raw) : null;
        } catch (_) {
          return null;
        }
      },
      set(name, value) {
        const raw = JSON.stringify(value);
        try {
          if (local) local.setItem(name, raw);
          else memory.set(name, raw);
        } catch (_) {
          memory.set(name, raw);
        }
      },
      remove(name) {
        try {
          if (local) local.removeItem(name);
        } catch (_) {
          /* ignore */
        }
        memory.delete(name);
      },
    };
  })();

  const randomId = () =>
    Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) =>
      b.toString(16).padStart(2, "0"),
    ).join("");

  const prefix = `supportops:${workspaceKey}:`;
  // A different signed-in customer on the same browser never resumes someone else's chat.
  const slot = prefix + (customer ? `customer:${customer.id}` : "visitor");
  const visitorId = (() => {
    let id = store.get(prefix + "visitor-id");
    if (typeof id !== "string" || !/^[a-f0-9]{32}$/.test(id)) {
      id = randomId();
      store.set(prefix + "visitor-id", id);
    }
    return id;
  })();

  // ---------------------------------------------------------------- HTTP
  class ApiError extends Error {
    constructor(status, detail, retryAfter) {
      super(detail);
      this.status = status; // 0: the network failed
      this.retryAfter = retryAfter;
    }

    // The server or the way to it is down for now (503 while its database restarts): the
    // same request is sent again later, and the customer sees "Reconnecting...".
    get transient() {
      return this.status === 0 || this.status >= 500;
    }
  }

  // Exponential backoff with jitter (so that many open chats do not come back in step), never
  // sooner than the server's Retry-After.
  function backoff(attempt, retryAfter) {
    const ceiling = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(Math.max(attempt, 0), 5));
    const jittered = ceiling / 2 + Math.random() * (ceiling / 2);
    return Math.max((retryAfter || 0) * 1000, jittered);
  }

  async function call(method, path, { body, token, idempotencyKey } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers["X-Conversation-Token"] = token;
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    let response;
    try {
      response = await fetch(API + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        mode: "cors",
        cache: "no-store",
      });
    } catch (_) {
      connectionLost();
      throw new ApiError(0, "The chat server could not be reached.", 0);
    }
    if (response.status >= 500) connectionLost();
    else connectionBack();
    let payload = null;
    try {
      payload = await response.json();
    } catch (_) {
      payload = null;
    }
    if (!response.ok) {
      const detail =
        payload && typeof payload.detail === "string" ? payload.detail : `HTTP ${response.status}`;
      const retryAfter = Number(response.headers.get("Retry-After")) || 0;
      throw new ApiError(response.status, detail, retryAfter);
    }
    return { status: response.status, data: payload };
  }

  // ---------------------------------------------------------------- DOM helpers
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (name === "class") el.className = value;
      else if (name === "text") el.textContent = value;
      else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
      else el.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) if (child !== null && child !== undefined) el.append(child);
    return el;
  }

  function icon(pathData) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", pathData);
    svg.append(path);
    return svg;
  }

  function safeUrl(value) {
    if (typeof value !== "string" || !value) return null;
    try {
      const url = new URL(value, ORIGIN);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (_) {
      return null;
    }
  }

  // Web addresses in the team's and the assistant's messages (tracking links, help pages)
  // become links; everything else stays text. Built node by node: message text is never
  // parsed as HTML.
  const WEB_ADDRESS = /\bhttps?:\/\/[^\s<>"'`]+/gi;
  const TRAILING = /[.,;:!?'")\]}>]+$/;

  function appendText(parent, text, linkify) {
    if (!linkify) {
      parent.textContent = text;
      return;
    }
    let last = 0;
    for (const match of text.matchAll(WEB_ADDRESS)) {
      let address = match[0];
      const trailing = address.match(TRAILING);
      // A link in brackets whose own path has brackets: keep the ")" that closes its own.
      if (trailing) {
        let cut = trailing[0];
        if (cut.startsWith(")") && (address.match(/\(/g) || []).length > 0) cut = cut.slice(1);
        address = address.slice(0, address.length - cut.length);
      }
      const url = safeUrl(address);
      if (!url || !/^https?:\/\//i.test(address)) continue;
      parent.append(document.createTextNode(text.slice(last, match.index)));
      parent.append(
        h("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: address }),
      );
      last = match.index + address.length;
    }
    parent.append(document.createTextNode(text.slice(last)));
  }

  // ---------------------------------------------------------------- the UI
  const host = document.createElement("supportops-widget");
  // Inline, important: the host page's own rules cannot move or restyle the container.
  for (const [prop, value] of [
    ["all", "initial"],
    ["position", "fixed"],
    ["right", "0"],
    ["bottom", "0"],
    ["width", "0"],
    ["height", "0"],
    ["z-index", "2147483000"],
    ["display", "block"],
  ]) {
    host.style.setProperty(prop, value, "important");
  }
  const shadow = host.attachShadow({ mode: "open" });
  const stylesheet = h("link", { rel: "stylesheet", href: `${ORIGIN}/widget.css?v=${VERSION}` });
  const cssReady = new Promise((resolve) => {
    stylesheet.addEventListener("load", resolve, { once: true });
    stylesheet.addEventListener("error", resolve, { once: true });
  });

  const badge = h("span", { class: "badge", hidden: true, "aria-hidden": "true" });
  const launcher = h(
    "button",
    {
      type: "button",
      class: "launcher",
      "aria-label": "Open the support chat",
      "aria-expanded": "false",
      "aria-controls": "so-panel",
    },
    icon("M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"),
    badge,
  );
  const title = h("h2", { class: "title", id: "so-title", text: "Support" });
  const subtitle = h("p", { class: "subtitle", id: "so-subtitle", text: STATUS_TEXT.bot });
  const handoffButton = h("button", {
    type: "button",
    class: "handoff",
    text: "Talk to a person",
  });
  const closeButton = h(
    "button",
    { type: "button", class: "close", "aria-label": "Close the chat" },
    icon("M6 6l12 12M18 6L6 18"),
  );
  const list = h("ol", { class: "messages", "aria-label": "Messages" });
  const logBox = h(
    "div",
    { class: "log", role: "log", "aria-live": "polite", tabindex: "0", "aria-label": "Chat" },
    list,
  );
  const notice = h("p", { class: "notice", role: "status", hidden: true });
  const typingNote = h("p", { class: "typing", id: "so-typing", hidden: true });
  // While waiting for a person: the live wait, or an honest "offline" with an email form.
  const waitText = h("p", { class: "wait-text", id: "so-wait-text", role: "status" });
  const emailInput = h("input", {
    type: "email",
    id: "so-email",
    autocomplete: "email",
    maxlength: "254",
    required: true,
    placeholder: "you@example.com",
    "aria-describedby": "so-wait-text so-email-error",
  });
  const emailError = h("p", { class: "wait-error", id: "so-email-error", role: "alert" });
  const emailForm = h(
    "form",
    { class: "wait-email", novalidate: true, hidden: true },
    h("label", { for: "so-email", text: "Your email" }),
    h("div", { class: "wait-row" }, emailInput, h("button", { type: "submit", text: "Email me" })),
    emailError,
  );
  // A signed-in customer's own address (masked) is offered instead of asking for one.
  const useKnownButton = h("button", { type: "button", class: "use-known", text: "Email me there" });
  const otherAddressButton = h("button", {
    type: "button",
    class: "other-address",
    text: "Use another address",
  });
  const knownBox = h("div", { class: "wait-known", hidden: true }, useKnownButton, otherAddressButton);
  const waitBox = h("div", { class: "wait", hidden: true }, waitText, knownBox, emailForm);
  const input = h("textarea", {
    id: "so-input",
    rows: "2",
    maxlength: String(MAX_CHARS),
    placeholder: "Write a message\u2026",
    "aria-describedby": "so-hint so-privacy",
  });
  // Secrets are masked before the message is stored (the transcript shows the mask).
  const privacyNote = h("p", {
    class: "privacy",
    id: "so-privacy",
    text: "Never share passwords, security codes or card numbers here: we hide them if you do.",
  });
  const sendButton = h("button", { type: "submit", class: "send", text: "Send" });
  const composer = h(
    "form",
    { class: "composer", novalidate: true },
    h("label", { class: "sr-only", for: "so-input", text: "Your message" }),
    input,
    sendButton,
    h("p", {
      class: "sr-only",
      id: "so-hint",
      text: "Enter sends, Shift+Enter starts a new line.",
    }),
  );
  const endButton = h("button", { type: "button", class: "end", text: "End chat" });
  const panel = h(
    "section",
    {
      class: "panel",
      id: "so-panel",
      role: "dialog",
      "aria-labelledby": "so-title",
      "aria-describedby": "so-subtitle",
      hidden: true,
    },
    h(
      "header",
      { class: "head" },
      h("div", { class: "titles" }, title, subtitle),
      closeButton,
    ),
    logBox,
    typingNote,
    waitBox,
    notice,
    composer,
    // After the message box in the tab order: the way to a person is one Tab from typing.
    h(
      "footer",
      { class: "foot" },
      privacyNote,
      h("div", { class: "actions" }, handoffButton, endButton),
    ),
  );
  const root = h("div", { class: "root", hidden: true }, launcher, panel);
  shadow.append(stylesheet, root);

  // ---------------------------------------------------------------- state
  const saved = store.get(slot) || {};
  const savedOpening = saved.opening && Array.isArray(saved.opening.messages) ? saved.opening : null;
  const state = {
    open: false,
    conversation: saved.id && saved.token ? { id: saved.id, token: saved.token } : null,
    // A started chat the server stores nothing of until its first message: its signed token
    // and what it said to show (the greeting), drawn without ids until the conversation begins.
    pendingChat:
      !saved.id && typeof saved.pendingToken === "string" && savedOpening
        ? { token: saved.pendingToken, opening: savedOpening }
        : null,
    openingEls: [],
    seen: Number(saved.seen) || 0, // newest message id the customer has had open in front of them
    cursor: 0, // newest message id rendered in this page
    status: "bot",
    personName: "",
    personLabel: "", // "Maren from Tidewell"
    typingPingAt: 0,
    wait: null, // the last renderWait arguments
    otherAddress: false, // the customer chose to give another address than their own
    solved: null,
    csatScore: null,
    feedbackGiven: Number(saved.feedbackGiven) || 0,
    messages: new Map(), // id -> {data, el}
    pending: Array.isArray(saved.pending) ? saved.pending.filter((p) => p && p.key) : [],
    sending: false,
    polling: false,
    pollTimer: null,
    failures: 0,
    starting: null,
    reconnecting: false,
    startAttempts: 0,
    startTimer: null,
  };

  function save() {
    if (!state.conversation && state.pendingChat) {
      // The same pending token after a reload: a first message sent again never begins a
      // second conversation.
      store.set(slot, {
        pendingToken: state.pendingChat.token,
        opening: state.pendingChat.opening,
        pending: state.pending.map(({ key, text }) => ({ key, text })),
      });
      return;
    }
    if (!state.conversation) {
      store.remove(slot);
      return;
    }
    store.set(slot, {
      id: state.conversation.id,
      token: state.conversation.token,
      cursor: state.cursor,
      seen: state.seen,
      feedbackGiven: state.feedbackGiven,
      pending: state.pending.map(({ key, text }) => ({ key, text })),
    });
  }

  function showNotice(text) {
    notice.textContent = text || "";
    notice.hidden = !text;
  }

  function connectionLost() {
    state.reconnecting = true;
    showNotice(RECONNECTING);
  }

  function connectionBack() {
    if (!state.reconnecting) return;
    state.reconnecting = false;
    if (notice.textContent.startsWith(RECONNECTING)) showNotice("");
  }

  // What a button's request failed with: during an outage, that it will work again soon.
  function failedNotice(err, again) {
    showNotice(err.transient ? `${RECONNECTING} ${again}` : err.message);
  }

  function setStatus(conversation) {
    if (conversation.status) state.status = conversation.status;
    if ("solved" in conversation) state.solved = conversation.solved;
    if ("csat_score" in conversation) state.csatScore = conversation.csat_score;
    if ("person_name" in conversation) state.personName = conversation.person_name || "";
    if ("person_label" in conversation) state.personLabel = conversation.person_label || "";
    if ("typing" in conversation && typingNote.textContent !== (conversation.typing || "")) {
      typingNote.textContent = conversation.typing || "";
      typingNote.hidden = !conversation.typing;
    }
    const subtitleText =
      state.status === "with_agent" && state.personName
        ? STATUS_TEXT.with_person(state.personLabel || state.personName)
        : STATUS_TEXT[state.status] || "";
    if (subtitle.textContent !== subtitleText) subtitle.textContent = subtitleText;
    endButton.hidden = state.status === "resolved" || !state.conversation; // nothing to end yet
    // Only while the assistant answers: waiting, a person is already asked for (the subtitle
    // says so); with a person, the subtitle names them; an ended chat is reopened by writing.
    const handoffWasFocused = shadow.activeElement === handoffButton;
    handoffButton.hidden = state.status !== "bot";
    if (handoffWasFocused && handoffButton.hidden) input.focus();
    if ("wait" in conversation) {
      renderWait(conversation.wait, conversation.followup_email, conversation.known_email);
    }
  }

  // ---------------------------------------------------------------- the wait for a person
  function aboutMinutes(minutes) {
    if (minutes >= 120) return `about ${Math.round(minutes / 60)} hours`;
    return minutes === 1 ? "about a minute" : `about ${minutes} minutes`;
  }

  function clockTime(iso) {
    const when = new Date(iso);
    if (Number.isNaN(when.getTime())) return "";
    const time = { hour: "2-digit", minute: "2-digit" };
    const sameDay = when.toDateString() === new Date().toDateString();
    return when.toLocaleString([], sameDay ? time : { weekday: "short", ...time });
  }

  function waitMessage(wait, email, known) {
    if (wait.open_now && wait.estimated_minutes) {
      const place = wait.position > 1 ? ` (you're number ${wait.position} in line)` : " (you're next)";
      return `A person will join in ${aboutMinutes(wait.estimated_minutes)}${place}.`;
    }
    const back = wait.reopens_at ? clockTime(wait.reopens_at) : "";
    const offline = `Our team is offline right now${back ? ` (back at ${back})` : ""}.`;
    if (email) return `${offline} We'll email you at ${email} when someone replies.`;
    if (!state.conversation) return `${offline} Write your question and we'll answer it.`;
    if (known && !state.otherAddress) return `${offline} We can email the answer to ${known}.`;
    return `${offline} Leave your email and we'll answer there.`;
  }

  function renderWait(wait, email, known) {
    state.wait = wait ? [wait, email, known] : null;
    waitBox.hidden = !wait;
    if (!wait) return;
    const text = waitMessage(wait, email, known);
    // Only on change: the text is a live region and polls come every second.
    if (waitText.textContent !== text) waitText.textContent = text;
    const offerEmail = !wait.open_now && !email && Boolean(state.conversation);
    const offerKnown = offerEmail && Boolean(known) && !state.otherAddress;
    const askEmail = offerEmail && !offerKnown;
    if (knownBox.hidden === offerKnown) knownBox.hidden = !offerKnown;
    if (emailForm.hidden === askEmail) emailForm.hidden = !askEmail;
  }

  async function followupEmailSet(body, onError) {
    try {
      const { data: result } = await action("/email", {
        ...body,
        page_url: location.href.split("#")[0],
      });
      emailError.textContent = "";
      emailInput.removeAttribute("aria-invalid");
      setStatus(result);
      input.focus();
      pollSoon(0);
    } catch (err) {
      onError(
        err.transient ? "The chat server could not be reached. Try again in a moment." : err.message,
      );
    }
  }

  useKnownButton.addEventListener("click", () =>
    followupEmailSet({ use_known: true }, (message) => showNotice(message)),
  );
  otherAddressButton.addEventListener("click", () => {
    state.otherAddress = true;
    if (state.wait) renderWait(...state.wait);
    emailInput.focus();
  });

  emailForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const email = emailInput.value.trim();
    if (!email || !emailInput.checkValidity()) {
      emailError.textContent = "Enter an email address like you@example.com.";
      emailInput.setAttribute("aria-invalid", "true");
      emailInput.focus();
      return;
    }
    await followupEmailSet({ email }, (message) => {
      emailError.textContent = message;
      emailInput.setAttribute("aria-invalid", "true");
      emailInput.focus();
    });
  });

  // ---------------------------------------------------------------- messages
  function messageElement(message) {
    const li = h("li", {
      class: `msg msg-${message.author}`,
      "data-id": message.id,
      "data-kind": message.kind,
    });
    const bubble = h("div", { class: "bubble" });
    appendText(bubble, String(message.text || ""), message.author !== "customer");
    li.append(h("span", { class: "who", text: message.author_label || "" }), bubble);
    const sources = Array.isArray(message.sources) ? message.sources : [];
    if (sources.length) {
      const items = h("ul", { class: "sources-list" });
      for (const source of sources) {
        const label = String(source.title || "");
        if (!label) continue;
        const url = safeUrl(source.url);
        items.append(
          h(
            "li",
            null,
            url
              ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: label })
              : h("span", { text: label }),
          ),
        );
      }
      li.append(h("div", { class: "sources" }, h("span", { class: "label", text: "Sources" }), items));
    }
    return li;
  }

  // Keep messages in id order, with unconfirmed sends after them.
  function place(el, id) {
    for (const child of list.children) {
      if (child.classList.contains("pending") || Number(child.dataset.id) > id) {
        list.insertBefore(el, child);
        return;
      }
    }
    list.append(el);
  }

  function addMessage(message) {
    if (state.messages.has(message.id)) return false;
    const pending = message.client_key
      ? state.pending.find((p) => p.key === message.client_key)
      : null;
    if (pending && pending.el) {
      confirmPending(pending, message); // the poll saw our own message before the POST answered
      return true;
    }
    const el = messageElement(message);
    state.messages.set(message.id, { data: message, el });
    place(el, message.id);
    return true;
  }

  function applyConversation(payload) {
    setStatus(payload);
    let added = 0;
    for (const message of payload.messages || []) {
      if (addMessage(message)) added += 1;
      state.cursor = Math.max(state.cursor, message.id);
    }
    if (added) {
      refreshPrompts();
      if (state.open) {
        markSeen();
        scrollDown();
      } else {
        updateBadge();
      }
    } else if ("status" in payload) {
      refreshPrompts();
    }
    save();
  }

  function scrollDown() {
    logBox.scrollTop = logBox.scrollHeight;
  }

  function markSeen() {
    state.seen = Math.max(state.seen, state.cursor);
    updateBadge();
    save();
  }

  function updateBadge() {
    let unread = 0;
    for (const [id, { data: message }] of state.messages) {
      if (id > state.seen && message.author !== "customer") unread += 1;
    }
    badge.hidden = state.open || unread === 0;
    badge.textContent = unread > 9 ? "9+" : String(unread);
    launcher.setAttribute(
      "aria-label",
      unread && !state.open
        ? `Open the support chat (${unread} new message${unread === 1 ? "" : "s"})`
        : "Open the support chat",
    );
  }

  // ---------------------------------------------------------------- "Did that solve it?" and rating
  const feedbackBox = h(
    "div",
    { class: "prompt feedback", role: "group", "aria-labelledby": "so-feedback-q" },
    h("p", { id: "so-feedback-q", text: "Did that solve it?" }),
    h("button", { type: "button", class: "yes", text: "Yes", onclick: () => sendFeedback(true) }),
    h("button", { type: "button", class: "no", text: "No", onclick: () => sendFeedback(false) }),
  );

  const ratingInputs = [1, 2, 3, 4, 5].map((score) =>
    h("input", {
      type: "radio",
      name: "so-score",
      id: `so-score-${score}`,
      value: String(score),
      required: true,
    }),
  );
  const ratingComment = h("textarea", {
    id: "so-comment",
    rows: "2",
    maxlength: "2000",
    placeholder: "Anything to add? (optional)",
  });
  const ratingForm = h(
    "form",
    { class: "prompt csat", novalidate: true },
    h(
      "fieldset",
      null,
      h("legend", { text: "How would you rate this conversation? (1 = poor, 5 = excellent)" }),
      h(
        "div",
        { class: "scores" },
        ...ratingInputs.map((radio, i) =>
          h("label", { for: radio.id }, radio, h("span", { text: String(i + 1) })),
        ),
      ),
    ),
    h("label", { class: "sr-only", for: "so-comment", text: "Comment (optional)" }),
    ratingComment,
    h("button", { type: "submit", class: "send-rating", text: "Send rating" }),
  );
  const thanks = h("p", { class: "prompt thanks", role: "status" });

  function latest(predicate) {
    let found = null;
    for (const [id, entry] of state.messages) {
      if (predicate(entry.data) && (!found || id > found.data.id)) found = entry;
    }
    return found;
  }

  function customerWroteAfter(id) {
    for (const [otherId, entry] of state.messages) {
      if (otherId > id && entry.data.author === "customer") return true;
    }
    return state.pending.length > 0;
  }

  function attach(box, entry) {
    if (!entry) {
      box.remove();
      return;
    }
    if (box.parentNode !== entry.el) entry.el.append(box);
  }

  function refreshPrompts() {
    const answer = latest((m) => m.kind === "answer");
    const wantsFeedback =
      answer &&
      state.status === "bot" &&
      state.feedbackGiven < answer.data.id &&
      !customerWroteAfter(answer.data.id);
    attach(feedbackBox, wantsFeedback ? answer : null);

    const ask = latest((m) => m.kind === "csat_request");
    const wantsRating =
      ask && state.status === "resolved" && state.csatScore === null && !customerWroteAfter(ask.data.id);
    attach(ratingForm, wantsRating ? ask : null);
  }

  async function sendFeedback(solved) {
    const answer = latest((m) => m.kind === "answer");
    if (answer) state.feedbackGiven = answer.data.id;
    refreshPrompts();
    input.focus();
    save();
    try {
      const { data: result } = await action("/feedback", { solved });
      setStatus(result);
      pollSoon(0);
    } catch (err) {
      state.feedbackGiven = 0;
      refreshPrompts();
      failedNotice(err, "Answer again in a moment.");
    }
  }

  ratingForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = ratingInputs.find((r) => r.checked);
    if (!chosen) {
      showNotice("Choose a rating from 1 to 5.");
      ratingInputs[0].focus();
      return;
    }
    const ask = latest((m) => m.kind === "csat_request");
    try {
      const { data: result } = await action("/csat", {
        score: Number(chosen.value),
        comment: ratingComment.value.trim(),
      });
      showNotice("");
      setStatus(result);
      refreshPrompts();
      thanks.textContent = "Thank you for your rating.";
      attach(thanks, ask);
      endButton.focus();
    } catch (err) {
      failedNotice(err, "Send your rating again in a moment.");
    }
  });

  // ---------------------------------------------------------------- conversation lifecycle
  // Starting a chat stores nothing on the server: it answers with what to show and a pending
  // token. The first message (or "Talk to a person") begins the conversation and returns its
  // id and token; from then on everything goes to the conversation.
  async function ensureConversation() {
    if (state.conversation) return state.conversation;
    if (state.pendingChat) return null;
    if (!state.starting) {
      state.starting = startConversation().finally(() => {
        state.starting = null;
      });
    }
    return state.starting;
  }

  async function startConversation() {
    const body = customer
      ? {
          customer_id: customer.id,
          customer_name: customer.name,
          customer_email: customer.email,
          signature_expires: customer.expires,
          signature: customer.signature,
        }
      : { visitor_id: visitorId };
    const { data: started } = await call("POST", "/conversations", { body });
    state.pendingChat = {
      token: started.pending_token,
      opening: { status: started.status, wait: started.wait, messages: started.messages || [] },
    };
    showOpening();
    save();
    return null;
  }

  // What the start said to show, until the conversation (which stores it) begins.
  function showOpening() {
    for (const el of state.openingEls) el.remove();
    const opening = state.pendingChat.opening;
    state.openingEls = opening.messages.map((message) => messageElement(message));
    list.prepend(...state.openingEls);
    setStatus({ status: opening.status, wait: opening.wait || null });
    if (state.open) scrollDown();
  }

  // The first message or "Talk to a person" began the conversation: from now on it is real.
  function conversationBegun(conversation) {
    for (const el of state.openingEls) el.remove();
    state.openingEls = [];
    state.pendingChat = null;
    state.conversation = { id: conversation.id, token: conversation.token };
    applyConversation(conversation);
    save();
  }

  function forgetConversation() {
    // The server no longer knows this conversation (or this browser's token), or the pending
    // chat expired: start afresh.
    state.conversation = null;
    state.pendingChat = null;
    state.openingEls = [];
    state.messages.clear();
    state.cursor = 0;
    state.seen = 0;
    state.feedbackGiven = 0;
    list.replaceChildren();
    save();
  }

  async function action(path, body) {
    let conversation = await ensureConversation();
    if (!conversation && path === "/handoff") {
      // Asking for a person before writing anything begins the conversation; a pending chat
      // the server no longer takes (expired) is started again once.
      for (let attempt = 0; ; attempt += 1) {
        try {
          const result = await call("POST", "/pending/handoff", {
            body: { pending_token: state.pendingChat.token },
          });
          conversationBegun(result.data);
          return result;
        } catch (err) {
          if (attempt || (err.status !== 404 && err.status !== 410)) throw err;
          forgetConversation();
          await ensureConversation();
        }
      }
    }
    if (!conversation) throw new ApiError(409, "Write your question first.", 0);
    return call("POST", `/conversations/${conversation.id}${path}`, {
      body: body || {},
      token: conversation.token,
    });
  }

  // ---------------------------------------------------------------- polling
  function pollSoon(delay) {
    clearTimeout(state.pollTimer);
    state.pollTimer = setTimeout(poll, delay);
  }

  function pollDelay(retryAfter) {
    if (state.failures || retryAfter) return backoff(state.failures, retryAfter);
    return state.open && !document.hidden ? POLL_OPEN_MS : POLL_CLOSED_MS;
  }

  async function poll() {
    if (!state.conversation) return;
    if (state.polling) return;
    state.polling = true;
    let retryAfter = 0;
    try {
      let more = true;
      while (more && state.conversation) {
        const { id, token } = state.conversation;
        const { data: page } = await call("GET", `/conversations/${id}/messages?after=${state.cursor}`, {
          token,
        });
        applyConversation(page);
        more = Boolean(page.more);
      }
      state.failures = 0;
    } catch (err) {
      if (err.status === 404) {
        forgetConversation();
        if (state.open) ensureConversation().catch(reportStartError);
      } else {
        state.failures += 1;
        retryAfter = err.retryAfter;
      }
    } finally {
      state.polling = false;
      if (state.conversation) pollSoon(pollDelay(retryAfter));
    }
  }

  window.addEventListener("online", () => {
    state.failures = 0;
    pollSoon(0);
    pump(true);
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && state.open) pollSoon(0);
  });

  // ---------------------------------------------------------------- sending (in order, retried)
  function pendingElement(item) {
    const li = h("li", { class: "msg msg-customer pending", "aria-busy": "true" });
    item.statusEl = h("span", { class: "state", text: "Sending\u2026" });
    li.append(
      h("span", { class: "who", text: "You" }),
      h("div", { class: "bubble", text: item.text }),
      item.statusEl,
    );
    list.append(li);
    return li;
  }

  function confirmPending(item, message) {
    const index = state.pending.indexOf(item);
    if (index >= 0) state.pending.splice(index, 1);
    const el = item.el;
    el.classList.remove("pending", "failed");
    el.removeAttribute("aria-busy");
    el.dataset.id = message.id;
    el.dataset.kind = message.kind;
    if (item.statusEl) item.statusEl.remove();
    // The stored text, which may differ from what was typed: secrets come back masked.
    const bubble = el.querySelector(".bubble");
    if (bubble && typeof message.text === "string") bubble.textContent = message.text;
    el.remove();
    state.messages.set(message.id, { data: message, el });
    place(el, message.id);
    save();
  }

  function send(text) {
    const item = { key: randomId(), text };
    item.el = pendingElement(item);
    state.pending.push(item);
    save();
    refreshPrompts();
    scrollDown();
    pump();
  }

  async function pump(now) {
    if (state.sending) return;
    const item = state.pending[0];
    if (!item) return;
    if (now) clearTimeout(item.timer);
    state.sending = true;
    item.statusEl.textContent = "Sending\u2026";
    let retryIn = 0;
    try {
      const conversation = await ensureConversation();
      let message;
      if (conversation) {
        ({ data: message } = await call("POST", `/conversations/${conversation.id}/messages`, {
          body: { text: item.text },
          token: conversation.token,
          idempotencyKey: item.key, // the same key on every retry: never posted twice
        }));
      } else {
        // The chat's first message begins its conversation (sent again with the same key
        // and pending token, it finds the conversation instead of beginning a second one).
        ({ data: message } = await call("POST", "/pending/messages", {
          body: { text: item.text, pending_token: state.pendingChat.token },
          idempotencyKey: item.key,
        }));
        conversationBegun(message.conversation);
      }
      // A poll may already have matched it by its key; then there is nothing left to do.
      if (state.pending.includes(item)) confirmPending(item, message);
      showNotice("");
      pollSoon(300);
    } catch (err) {
      if (err.status === 400 || err.status === 403) {
        state.pending.splice(state.pending.indexOf(item), 1);
        item.el.classList.remove("pending");
        item.el.classList.add("failed");
        item.el.removeAttribute("aria-busy");
        item.statusEl.textContent = `Not sent: ${err.message}`;
        save();
      } else if (err.status === 404 || err.status === 410) {
        forgetConversation(); // pending sends move to the new conversation (a new start)
        for (const p of state.pending) list.append(p.el);
        retryIn = 100;
      } else {
        // Kept (with its key, also across a reload) and sent again: stored at most once.
        item.attempts = (item.attempts || 0) + 1;
        retryIn = backoff(item.attempts, err.retryAfter);
        item.statusEl.textContent = err.transient
          ? "Not sent yet \u2013 reconnecting\u2026"
          : "Retrying\u2026";
      }
    } finally {
      state.sending = false;
      refreshPrompts();
    }
    if (retryIn) item.timer = setTimeout(() => pump(), retryIn);
    else if (state.pending.length) pump();
  }

  // ---------------------------------------------------------------- events
  function reportStartError(err) {
    if (err.transient || err.status === 429) {
      // Keep trying while the panel is open; "Reconnecting..." is already showing for 5xx.
      state.startAttempts += 1;
      clearTimeout(state.startTimer);
      state.startTimer = setTimeout(() => {
        if (state.open && !state.conversation && !state.pendingChat) {
          ensureConversation()
            .then(() => {
              state.startAttempts = 0;
              pollSoon(0);
            })
            .catch(reportStartError);
        }
      }, backoff(state.startAttempts, err.retryAfter));
      if (err.status === 429) showNotice(err.message);
      return;
    }
    if (err.status === 403) {
      log(err.message);
      showNotice(
        customer
          ? "We could not confirm your account, so the chat cannot start. Please reload the page."
          : "The chat is not available on this website.",
      );
    } else {
      showNotice(err.message);
    }
  }

  function openPanel() {
    state.open = true;
    panel.hidden = false;
    root.classList.add("is-open");
    launcher.setAttribute("aria-expanded", "true");
    updateBadge();
    input.focus();
    ensureConversation()
      .then(() => {
        markSeen();
        scrollDown();
        pollSoon(0);
      })
      .catch(reportStartError);
  }

  function closePanel() {
    state.open = false;
    panel.hidden = true;
    root.classList.remove("is-open");
    launcher.setAttribute("aria-expanded", "false");
    updateBadge();
    launcher.focus();
  }

  launcher.addEventListener("click", () => (state.open ? closePanel() : openPanel()));
  closeButton.addEventListener("click", closePanel);
  shadow.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && state.open) {
      event.preventDefault();
      closePanel();
    }
  });

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (text.length > MAX_CHARS) {
      showNotice(`Messages can be at most ${MAX_CHARS.toLocaleString()} characters.`);
      return;
    }
    input.value = "";
    showNotice("");
    send(text);
  });
  // While a person is (or will be) reading: tell them the customer is typing.
  input.addEventListener("input", () => {
    const now = Date.now();
    if (!state.conversation || !input.value.trim() || now - state.typingPingAt < TYPING_PING_MS) return;
    if (state.status !== "handed_off" && state.status !== "with_agent") return;
    state.typingPingAt = now;
    const { id, token } = state.conversation;
    call("POST", `/conversations/${id}/typing`, { token }).catch(() => {});
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });

  handoffButton.addEventListener("click", async () => {
    if (handoffButton.getAttribute("aria-disabled") === "true") return;
    const already = state.status === "handed_off" || state.status === "with_agent";
    // aria-disabled, not disabled: a disabled button drops the keyboard focus.
    handoffButton.setAttribute("aria-disabled", "true");
    try {
      const { data: result } = await action("/handoff"); // a second press changes nothing
      setStatus(result);
      showNotice(already ? "A person from our team has already been asked to join." : "");
      pollSoon(0);
    } catch (err) {
      failedNotice(err, "Press \u201cTalk to a person\u201d again in a moment.");
    } finally {
      handoffButton.removeAttribute("aria-disabled");
    }
  });

  endButton.addEventListener("click", async () => {
    try {
      const { data: result } = await action("/end");
      setStatus(result);
      pollSoon(0);
    } catch (err) {
      failedNotice(err, "Press \u201cEnd chat\u201d again in a moment.");
    }
  });

  // ---------------------------------------------------------------- start
  async function loadConfig() {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const { data: config } = await call("GET", "/config");
        return config;
      } catch (err) {
        if (err.status === 403 || err.status === 404) throw err;
        await new Promise((r) => setTimeout(r, backoff(attempt + 1, err.retryAfter)));
      }
    }
  }

  function mount() {
    (document.body || document.documentElement).append(host);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount, { once: true });

  Promise.all([loadConfig(), cssReady])
    .then(([config]) => {
      title.textContent = config.title || "Support";
      launcher.setAttribute("title", config.title || "Support");
      if (/^#[0-9a-fA-F]{6}$/.test(config.accent_color || "")) {
        root.style.setProperty("--accent", config.accent_color);
      }
      root.hidden = false;
      // Unsent messages from before a reload are sent again, with their original keys.
      for (const item of state.pending) item.el = pendingElement(item);
      if (state.pendingChat) showOpening();
      if (state.conversation || state.pendingChat) pump();
      if (state.conversation) pollSoon(0);
    })
    .catch((err) => {
      log(err.message);
      host.remove();
    });
})();
