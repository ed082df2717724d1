/*
 * RelayDesk web-chat widget. Embed on a page with:
 *   <script src="https://desk.example.com/webchat/widget.js" data-account="12" async></script>
 * Optional attributes: data-title, data-placeholder, data-send, data-greeting, data-color.
 *
 * Every text (the visitor's and the agent's) is untrusted and is only ever put into the page
 * with textContent. The visitor token lives in localStorage so a returning browser keeps its
 * conversation; a token the desk no longer accepts is dropped and a new session started.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.getAttribute("data-account")) {
    return;
  }
  var account = String(parseInt(script.getAttribute("data-account"), 10));
  if (account === "NaN" || window["__relaydeskWebchat" + account]) {
    return;
  }
  window["__relaydeskWebchat" + account] = true;

  var base = new URL(script.src, window.location.href).origin;
  var api = base + "/webchat/" + account;
  var storageKey = "relaydesk.webchat." + base + "." + account;
  var attr = function (name, fallback) {
    var value = script.getAttribute("data-" + name);
    return value ? value : fallback;
  };
  var color = /^#[0-9a-fA-F]{3,8}$/.test(attr("color", "")) ? attr("color", "") : "#2f5fd0";
  var LONG_POLL_SECONDS = 20;
  var state = {
    token: null,
    after: 0,
    seen: 0,
    shown: {},
    polling: false,
    open: false,
    backoff: 0,
    unread: 0
  };

  function load() {
    try {
      return window.localStorage.getItem(storageKey);
    } catch (e) {
      return null; // storage blocked (private mode, third-party rules): a session per page load
    }
  }

  function store(token) {
    try {
      if (token) {
        window.localStorage.setItem(storageKey, token);
      } else {
        window.localStorage.removeItem(storageKey);
      }
    } catch (e) {
      /* see load() */
    }
  }

  function newId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var out = "";
    for (var i = 0; i < bytes.length; i++) {
      out += ("0" + bytes[i].toString(16)).slice(-2);
    }
    return out;
  }

  function request(method, path, body, timeoutMs) {
    var headers = { "Content-Type": "application/json" };
    if (state.token) {
      headers.Authorization = "Bearer " + state.token;
    }
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, timeoutMs || 15000) : null;
    return fetch(api + path, {
      method: method,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined,
      credentials: "omit",
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      if (timer) {
        clearTimeout(timer);
      }
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    }, function (error) {
      if (timer) {
        clearTimeout(timer);
      }
      throw error;
    });
  }

  // -- the page elements (built with DOM calls only) ---------------------------------------

  function el(tag, styles, text) {
    var node = document.createElement(tag);
    if (styles) {
      for (var key in styles) {
        if (Object.prototype.hasOwnProperty.call(styles, key)) {
          node.style[key] = styles[key];
        }
      }
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  var root = el("div", {
    position: "fixed", bottom: "20px", right: "20px", zIndex: "2147483000",
    fontFamily: "system-ui, -apple-system, 'Segoe UI', Tahoma, sans-serif", fontSize: "14px"
  });
  var button = el("button", {
    background: color, color: "#fff", border: "none", borderRadius: "24px", padding: "12px 18px",
    cursor: "pointer", boxShadow: "0 2px 10px rgba(0,0,0,.25)", font: "inherit"
  }, attr("title", "Chat with us"));
  button.type = "button";
  button.setAttribute("aria-expanded", "false");
  var panel = el("div", {
    display: "none", flexDirection: "column", width: "320px", maxWidth: "calc(100vw - 40px)",
    height: "420px", maxHeight: "calc(100vh - 100px)", background: "#fff", color: "#222",
    borderRadius: "10px", boxShadow: "0 4px 24px rgba(0,0,0,.25)", overflow: "hidden", marginBottom: "10px"
  });
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", attr("title", "Chat with us"));
  var header = el("div", { background: color, color: "#fff", padding: "10px 14px", fontWeight: "600" },
    attr("title", "Chat with us"));
  var list = el("div", { flex: "1", overflowY: "auto", padding: "10px", background: "#f6f7f9" });
  list.setAttribute("aria-live", "polite");
  var status = el("div", { fontSize: "12px", color: "#a33", padding: "0 10px", minHeight: "0" });
  var form = el("form", { display: "flex", borderTop: "1px solid #ddd", margin: "0" });
  var input = el("textarea", {
    flex: "1", border: "none", padding: "10px", resize: "none", font: "inherit", height: "44px", outline: "none"
  });
  input.setAttribute("dir", "auto"); // Persian, Arabic and Hebrew visitors type right to left
  input.setAttribute("maxlength", "4000");
  input.setAttribute("aria-label", attr("placeholder", "Type your message"));
  input.placeholder = attr("placeholder", "Type your message");
  var send = el("button", {
    background: "none", border: "none", color: color, fontWeight: "600", padding: "0 14px",
    cursor: "pointer", font: "inherit"
  }, attr("send", "Send"));
  send.type = "submit";
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(header);
  panel.appendChild(list);
  panel.appendChild(status);
  panel.appendChild(form);
  root.appendChild(panel);
  root.appendChild(button);

  function bubble(fromVisitor, text, author) {
    var row = el("div", { display: "flex", justifyContent: fromVisitor ? "flex-end" : "flex-start", margin: "4px 0" });
    var box = el("div", {
      maxWidth: "80%", padding: "8px 10px", borderRadius: "10px", whiteSpace: "pre-wrap",
      overflowWrap: "anywhere", background: fromVisitor ? color : "#fff", color: fromVisitor ? "#fff" : "#222",
      border: fromVisitor ? "none" : "1px solid #e2e4e8"
    });
    if (author && !fromVisitor) {
      box.appendChild(el("div", { fontSize: "11px", opacity: "0.7", marginBottom: "2px" }, author));
    }
    var body = el("div", null, text);
    body.setAttribute("dir", "auto");
    box.appendChild(body);
    row.appendChild(box);
    list.appendChild(row);
    list.scrollTop = list.scrollHeight;
    return row;
  }

  function showStatus(text) {
    status.textContent = text || "";
    status.style.padding = text ? "4px 10px" : "0 10px";
  }

  function updateBadge() {
    button.textContent = attr("title", "Chat with us") + (state.unread && !state.open ? " (" + state.unread + ")" : "");
  }

  // -- session, sending, receiving ----------------------------------------------------------

  function startSession(retried) {
    var stored = state.token || load();
    state.token = null;
    return request("POST", "/session", stored ? { token: stored } : {}).then(function (res) {
      if (res.status === 403 && stored && !retried) {
        store(null); // the desk no longer knows this token: start over as a new visitor
        return startSession(true);
      }
      if (res.status !== 200 || !res.data.token) {
        throw new Error(res.data.detail || "chat unavailable");
      }
      state.token = res.data.token;
      store(state.token);
      return res.data;
    });
  }

  function render(messages) {
    for (var i = 0; i < messages.length; i++) {
      var m = messages[i];
      if (m.id > state.seen) {
        state.seen = m.id;
      }
      if (state.shown["m" + m.id] || (m.client_id && state.shown["c" + m.client_id])) {
        state.shown["m" + m.id] = true;
        continue;
      }
      state.shown["m" + m.id] = true;
      if (m.client_id) {
        state.shown["c" + m.client_id] = true;
      }
      bubble(m.sender === "visitor", m.text, m.author);
      if (m.sender !== "visitor" && !state.open) {
        state.unread += 1;
        updateBadge();
      }
    }
  }

  function poll() {
    if (state.polling || !state.token) {
      return;
    }
    state.polling = true;
    var path = "/messages?after=" + state.after + "&seen=" + state.seen + "&wait=" + LONG_POLL_SECONDS;
    request("GET", path, null, (LONG_POLL_SECONDS + 10) * 1000).then(function (res) {
      state.polling = false;
      if (res.status === 403 || res.status === 401) {
        store(null);
        state.token = null;
        return startSession(true).then(function () { schedule(1000); });
      }
      if (res.status === 429) {
        return schedule(10000);
      }
      if (res.status !== 200) {
        throw new Error("poll failed");
      }
      state.backoff = 0;
      state.after = res.data.last_id || state.after;
      render(res.data.messages || []);
      schedule(2500);
    }).catch(function () {
      state.polling = false;
      state.backoff = Math.min(30000, (state.backoff || 1500) * 2);
      schedule(state.backoff);
    });
  }

  function schedule(ms) {
    setTimeout(poll, ms);
  }

  function deliver(clientId, text, row, attempt) {
    return request("POST", "/messages", { id: clientId, text: text }).then(function (res) {
      if (res.status === 200 || res.status === 201) {
        row.style.opacity = "1";
        state.shown["m" + res.data.id] = true;
        showStatus("");
        schedule(300);
        return;
      }
      if (res.status === 429 || res.status >= 500) {
        throw new Error(res.data.detail || "try again");
      }
      row.style.opacity = "0.5";
      showStatus(res.data.detail || "Message not sent");
    }).catch(function (error) {
      // The same id on every retry: the desk stores the message once however often it arrives.
      if (attempt < 3) {
        return new Promise(function (resolve) { setTimeout(resolve, 1500 * (attempt + 1)); }).then(function () {
          return deliver(clientId, text, row, attempt + 1);
        });
      }
      row.style.opacity = "0.5";
      showStatus("Message not sent: " + (error && error.message ? error.message : "network error"));
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.replace(/^\s+|\s+$/g, "");
    if (!text || !state.token) {
      return;
    }
    input.value = "";
    var clientId = newId();
    state.shown["c" + clientId] = true;
    var row = bubble(true, text, null);
    row.style.opacity = "0.7";
    deliver(clientId, text, row, 0);
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });

  var started = null;
  function ensureSession() {
    if (!started) {
      started = startSession(false).then(function (data) {
        if (attr("greeting", "") && !data.returning) {
          bubble(false, attr("greeting", ""), null);
        }
        poll();
      }, function (error) {
        started = null;
        showStatus(error.message || "Chat unavailable");
      });
    }
    return started;
  }

  button.addEventListener("click", function () {
    state.open = !state.open;
    panel.style.display = state.open ? "flex" : "none";
    button.setAttribute("aria-expanded", state.open ? "true" : "false");
    if (state.open) {
      state.unread = 0;
      updateBadge();
      ensureSession();
      input.focus();
    }
  });

  function mount() {
    document.body.appendChild(root);
    if (load()) {
      ensureSession(); // a returning visitor sees the conversation and new replies at once
    }
  }

  if (document.body) {
    mount();
  } else {
    document.addEventListener("DOMContentLoaded", mount);
  }
})();
