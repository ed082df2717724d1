// RelayDesk inbox niceties. Every page works without this file; it only adds live refresh,
// keyboard shortcuts and a "typing" signal. It never builds HTML from strings:
// refreshed regions are nodes of the server's own (autoescaped) page.
(function () {
  "use strict";

  // Live push (/live, Server-Sent Events) says what changed; without it, a slow refresh.
  var FALLBACK_MS = 30000;
  var convo = document.querySelector("[data-conversation]");
  var conversationId = convo ? convo.getAttribute("data-conversation") : null;
  var liveRegions = document.querySelector("[data-live]") !== null;

  // -- live refresh --------------------------------------------------------------------------
  var missed = false; // a change arrived while the tab was hidden or text was being selected
  function busy() {
    if (document.hidden) { return true; }
    var selection = window.getSelection && window.getSelection();
    if (selection && String(selection).length > 0) { return true; } // someone is copying text
    if (document.querySelector("input[data-bulk-pick]:checked")) { return true; } // a bulk choice in progress
    return false;
  }

  function rowHrefs(root) {
    var seen = {};
    root.querySelectorAll("tr.conv[data-href]").forEach(function (r) { seen[r.getAttribute("data-href")] = true; });
    return seen;
  }

  function refresh() {
    if (busy()) { missed = true; return; }
    missed = false;
    fetch(location.href, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (!response.ok || response.redirected) { throw new Error("stop"); }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var before = rowHrefs(document);
        document.querySelectorAll("[data-live]").forEach(function (region) {
          var key = region.getAttribute("data-live");
          var next = fresh.querySelector('[data-live="' + key + '"]');
          if (!next) { return; }
          var open = [];
          region.querySelectorAll("details[open][id]").forEach(function (d) { open.push(d.id); });
          var selected = region.querySelector("tr.selected");
          var selectedHref = selected ? selected.getAttribute("data-href") : null;
          var hadFocus = region.contains(document.activeElement);
          var replacement = document.importNode(next, true);
          open.forEach(function (id) {
            var d = replacement.querySelector("#" + CSS.escape(id));
            if (d) { d.open = true; }
          });
          if (selectedHref) {
            var row = replacement.querySelector('tr[data-href="' + CSS.escape(selectedHref) + '"]');
            if (row) { row.classList.add("selected"); }
          }
          // New conversations stand out for a moment.
          replacement.querySelectorAll("tr.conv[data-href]").forEach(function (r) {
            if (!before[r.getAttribute("data-href")]) { r.classList.add("fresh"); }
          });
          region.replaceWith(replacement);
          var again = hadFocus && replacement.querySelector("tr.selected a.subject");
          if (again) { again.focus({ preventScroll: true }); }
        });
        rememberOrder();
        if (fresh.title) { document.title = fresh.title; } // the unread count in the tab's title
      })
      .catch(function () { /* the next signal (or the fallback timer) tries again */ });
  }

  // -- sound and desktop alerts (chosen per browser on /settings/notifications) --------------
  function stored(key) {
    try { return window.localStorage.getItem(key) === "1"; } catch (err) { return false; }
  }
  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    var audio = new Context();
    var tone = audio.createOscillator();
    var gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.08, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.35);
    tone.connect(gain);
    gain.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.35);
  }
  function alertPerson() {
    if (stored("relaydesk.alert.sound")) { try { beep(); } catch (err) { /* no audio */ } }
    if (stored("relaydesk.alert.desktop") && document.hidden && window.Notification &&
        Notification.permission === "granted") {
      var bell = document.querySelector("a.bell");
      // The signal carries no text: the notice says only that something is waiting.
      var note = new Notification(bell ? bell.getAttribute("data-alert") : "RelayDesk");
      note.onclick = function () { window.focus(); location.href = "/notifications"; };
    }
  }
  function bindAlertSetting(id, key, ask) {
    var box = document.getElementById(id);
    if (!box) { return; }
    box.checked = stored(key);
    box.addEventListener("change", function () {
      var save = function (on) {
        try { window.localStorage.setItem(key, on ? "1" : "0"); } catch (err) { /* private mode */ }
        box.checked = on;
      };
      if (box.checked && ask && window.Notification && Notification.permission !== "granted") {
        Notification.requestPermission().then(function (answer) {
          save(answer === "granted");
          if (answer !== "granted") {
            var status = document.getElementById("alert-status");
            var section = document.getElementById("browser-alerts");
            if (status && section) { status.textContent = section.getAttribute("data-denied"); }
          }
        });
        return;
      }
      save(box.checked);
    });
  }
  bindAlertSetting("alert-sound", "relaydesk.alert.sound", false);
  bindAlertSetting("alert-desktop", "relaydesk.alert.desktop", true);

  var timer = null;
  function fallback() {
    if (liveRegions && timer === null) { timer = setInterval(refresh, FALLBACK_MS); }
  }
  var scheduled = null;
  function soon() {
    clearTimeout(scheduled);
    scheduled = setTimeout(refresh, 150); // one refresh for a burst of signals
  }
  if (liveRegions && window.EventSource) {
    var source = new EventSource("/live");
    source.addEventListener("open", function () {
      if (timer !== null) { clearInterval(timer); timer = null; }
    });
    source.addEventListener("change", function (event) {
      var data = {};
      try { data = JSON.parse(event.data); } catch (err) { return; }
      var elsewhere = conversationId && data.conversation_id && String(data.conversation_id) !== conversationId;
      // On a conversation's page another conversation's news only matters to the bell.
      if (elsewhere && data.kind !== "NotificationCreated") { return; }
      if (data.kind === "NotificationCreated") { alertPerson(); }
      // Who is viewing or typing shows on the conversation's page, not in the inbox.
      if (!conversationId && data.kind === "PresenceChanged") { return; }
      soon();
    });
    source.addEventListener("error", function () {
      // The browser reconnects by itself (sending Last-Event-ID); a closed stream means /live
      // is not there for us (signed out, an old proxy): refresh slowly instead.
      if (source.readyState === EventSource.CLOSED) { fallback(); }
    });
  } else {
    fallback();
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && missed) { refresh(); }
  });

  // -- forms ---------------------------------------------------------------------------------
  // A conversation's forms (reply, note, status, assign, tags, hand-off...) are sent in the
  // background and the page's own new version replaces the conversation: no reload, the drafts of
  // the other forms and the scroll position stay. Anything else posts the ordinary way.
  var inPlace = Boolean(conversationId) && window.fetch && window.DOMParser && window.FormData;
  var FLASH_KEY = "relaydesk-flash";

  function keepDrafts(root, except) {
    var kept = {};
    root.querySelectorAll("textarea[id], input[type=text][id]").forEach(function (field) {
      if (field.form !== except && field.value) { kept[field.id] = field.value; }
    });
    return kept;
  }

  function showFlash(main, fresh) {
    var old = main.querySelector(":scope > .flash");
    if (old) { old.remove(); }
    if (fresh) {
      var flash = document.importNode(fresh, true);
      main.insertBefore(flash, main.firstChild);
    }
  }

  function swapConversation(html, form) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var next = fresh.querySelector(".convo[data-conversation]");
    var here = document.querySelector(".convo[data-conversation]");
    var main = document.getElementById("main");
    if (!next || !here || !main) { return false; }
    var drafts = keepDrafts(here, form);
    var open = [];
    here.querySelectorAll("details[open][id]").forEach(function (d) { open.push(d.id); });
    var replacement = document.importNode(next, true);
    Object.keys(drafts).forEach(function (id) {
      var field = replacement.querySelector("#" + CSS.escape(id));
      if (field && !field.value) { field.value = drafts[id]; }
    });
    open.forEach(function (id) {
      var d = replacement.querySelector("#" + CSS.escape(id));
      if (d) { d.open = true; }
    });
    // A refused send keeps the files the agent picked: a page cannot set a file box's files, but
    // the box itself, moved into the new page, keeps them. Other boxes' files stay too.
    var refused = fresh.querySelector("main > .flash.error") !== null;
    here.querySelectorAll("input[type=file][id]").forEach(function (box) {
      var twin = replacement.querySelector("#" + CSS.escape(box.id));
      if (twin && box.files && box.files.length && (refused || box.form !== form)) { twin.replaceWith(box); }
    });
    here.replaceWith(replacement);
    showFlash(main, fresh.querySelector("main > .flash"));
    if (fresh.title) { document.title = fresh.title; }
    bindComposer();
    var flash = main.querySelector(":scope > .flash");
    // Focus goes where the eye should: a problem's message, else back to the field that was used.
    var again = form && form.id ? document.getElementById(form.id) : null;
    if (flash && flash.classList.contains("error")) { flash.setAttribute("tabindex", "-1"); flash.focus(); }
    else if (again) { var first = again.querySelector("textarea, input:not([type=hidden]), select, button"); if (first) { first.focus({ preventScroll: true }); } }
    return true;
  }

  function sendInPlace(form, submitter) {
    var body;
    if ((form.getAttribute("enctype") || "").toLowerCase() === "multipart/form-data") {
      body = new FormData(form); // files go as the browser sends them without this script
    } else {
      body = new URLSearchParams();
      new FormData(form).forEach(function (value, key) { if (typeof value === "string") { body.append(key, value); } });
    }
    if (submitter && submitter.name) { body.append(submitter.name, submitter.value); }
    form.setAttribute("aria-busy", "true");
    // Not form.action: a field named "action" (the status buttons) shadows that property.
    var target = new URL(form.getAttribute("action") || location.href, location.href);
    fetch(target.href, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.text().then(function (html) { return { response: response, html: html }; });
    }).then(function (result) {
      form.removeAttribute("aria-busy");
      form.removeAttribute("data-sent");
      var landed = new URL(result.response.url, location.href);
      // A refused change answers with the page itself (no redirect): it is shown here.
      if (result.response.redirected && landed.pathname !== location.pathname) {
        // The conversation left this page (handed to a team the agent is not in): go where the
        // server sent us, keeping its message, which this request already collected.
        var fresh = new DOMParser().parseFromString(result.html, "text/html");
        var flash = fresh.querySelector("main > .flash");
        try { if (flash) { sessionStorage.setItem(FLASH_KEY, flash.textContent); } } catch (e) { /* storage off */ }
        // In the reading pane the whole window follows (the list changed too).
        (inPane ? window.top.location : location).assign(landed.href);
        return;
      }
      if (!swapConversation(result.html, form)) { location.reload(); }
    }).catch(function () {
      // The network failed: send the ordinary way, which shows the browser's own error.
      form.removeAttribute("aria-busy");
      form.removeAttribute("data-sent");
      form.setAttribute("data-plain", "1");
      if (submitter) { submitter.click(); } else { form.submit(); }
    });
  }

  (function () {
    // A message kept across a page change (see sendInPlace), shown as text, never as HTML.
    var text = null;
    try { text = sessionStorage.getItem(FLASH_KEY); sessionStorage.removeItem(FLASH_KEY); } catch (e) { /* storage off */ }
    var main = document.getElementById("main");
    if (text && main && !main.querySelector(":scope > .flash")) {
      var flash = document.createElement("p");
      flash.className = "flash ok";
      flash.setAttribute("role", "status");
      flash.textContent = text;
      main.insertBefore(flash, main.firstChild);
    }
  })();

  // The emoji picker puts the chosen emoji where the cursor is in the reply.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-emoji]");
    if (!button || !reply) { return; }
    event.preventDefault();
    var start = reply.selectionStart;
    insertIntoReply(start, reply.selectionEnd, button.getAttribute("data-emoji"));
    var picker = button.closest("details");
    if (picker) { picker.open = false; }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || form.tagName !== "FORM") { return; }
    // Text only (a textarea's value): a saved reply or an answer is never parsed as HTML.
    if (form.matches("form.faq-insert, form.canned-insert")) {
      var button = form.querySelector("[data-answer]");
      if (reply && button) {
        event.preventDefault();
        insertIntoReply(reply.selectionStart, reply.selectionEnd, button.getAttribute("data-answer"));
        offerMacro(button);
      }
      return;
    }
    if ((form.getAttribute("method") || "").toLowerCase() !== "post") { return; }
    // A second click while the first request runs would send the reply twice.
    if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
    form.setAttribute("data-sent", "1");
    if (form.getAttribute("data-plain")) { return; }
    if (inPlace && form.closest(".convo[data-conversation]")) {
      event.preventDefault();
      sendInPlace(form, event.submitter);
    }
  });

  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      document.querySelectorAll("form[data-sent]").forEach(function (f) { f.removeAttribute("data-sent"); });
    }
  });

  // The API refuses a change made with the session cookie unless it carries the session's token.
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = csrfMeta ? csrfMeta.getAttribute("content") : "";

  // -- the composer: "typing" for colleagues, brand-voice findings as the agent types, approved
  // answers and saved replies inserted in place. Bound again when the conversation is replaced.
  var reply = null;
  var findings = null;
  var marks = null;
  var lastTyping = 0;
  var checkTimer = null;
  var checked = "";
  var savedReplies = {};

  // The guideline form: only the fields of the chosen kind show (without the script every field
  // shows, with a line saying the others are ignored).
  function showKindFields(form) {
    var kind = form.querySelector("select[name=kind]");
    if (!kind) { return; }
    form.querySelectorAll("[data-kind]").forEach(function (field) {
      field.hidden = field.getAttribute("data-kind") !== kind.value;
    });
    var hint = form.querySelector("[data-kind-hint]");
    if (hint) { hint.hidden = true; }
  }
  document.querySelectorAll("form.guideline-form").forEach(function (form) {
    showKindFields(form);
    form.addEventListener("change", function (event) {
      if (event.target && event.target.name === "kind") { showKindFields(form); }
    });
  });

  // A finding in the reader's language: the page's sentence for its code with its values filled in
  // (as text: never parsed as HTML); the API's English detail when the page has no sentence for it.
  function findingSaid(f) {
    var sentences = {}, names = {};
    try {
      sentences = JSON.parse(findings.getAttribute("data-sentences") || "{}");
      names = JSON.parse(findings.getAttribute("data-names") || "{}");
    } catch (e) { return f.detail; }
    var template = f.code && sentences[f.code];
    if (!template) { return f.detail; }
    var values = f.values || {};
    return template.replace(/%\((\w+)\)s/g, function (whole, key) {
      var value = values[key];
      if (value === undefined) { return whole; }
      return (key === "found" || key === "wanted" || key === "network") && names[value] ? names[value] : value;
    });
  }

  function showFindings(result) {
    while (findings.firstChild) { findings.removeChild(findings.firstChild); }
    var items = (result && result.findings) || [];
    findings.hidden = false;
    if (!items.length) {
      var ok = document.createElement("p");
      ok.className = "finding finding-ok";
      ok.textContent = findings.getAttribute("data-ok");
      findings.appendChild(ok);
      return;
    }
    var list = document.createElement("ul");
    items.forEach(function (f) {
      var li = document.createElement("li");
      var severity = f.severity === "block" || f.severity === "suggest" ? f.severity : "warn";
      li.className = "finding finding-" + severity;
      var tag = document.createElement("strong");
      tag.textContent = findings.getAttribute("data-" + severity) + ": ";
      var text = document.createElement("span");
      text.setAttribute("dir", "auto");
      text.textContent = f.message + (f.detail ? " (" + findingSaid(f) + ")" : "");
      li.appendChild(tag);
      li.appendChild(text);
      list.appendChild(li);
    });
    findings.appendChild(list);
  }
  // The findings' places under the draft: its text (never parsed as HTML) with the spans wrapped in
  // <mark>. Spans count characters (code points); a JavaScript string counts UTF-16 units.
  function drawMarks(text, items) {
    if (!marks) { return; }
    while (marks.firstChild) { marks.removeChild(marks.firstChild); }
    var units = [0];
    for (var ch of text) { units.push(units[units.length - 1] + ch.length); }
    var spans = [];
    (items || []).forEach(function (f) {
      (f.spans || []).forEach(function (span) {
        var start = units[Math.min(span[0], units.length - 1)];
        var end = units[Math.min(span[1], units.length - 1)];
        if (end > start) { spans.push({ start: start, end: end, finding: f }); }
      });
    });
    spans.sort(function (a, b) { return a.start - b.start; });
    var at = 0;
    spans.forEach(function (s) {
      if (s.start < at) { return; }  // overlapping findings: the first one is drawn
      marks.appendChild(document.createTextNode(text.slice(at, s.start)));
      var mark = document.createElement("mark");
      mark.className = s.finding.severity === "block" ? "mark-block" : s.finding.severity === "suggest" ? "mark-suggest" : "mark-warn";
      mark.setAttribute("data-guideline", s.finding.guideline);
      mark.textContent = text.slice(s.start, s.end);
      marks.appendChild(mark);
      at = s.end;
    });
    // A last empty line still takes its height, as in the text box.
    marks.appendChild(document.createTextNode(text.slice(at) + "\u200b"));
    marks.scrollTop = reply.scrollTop;
  }
  function checkDraft() {
    var text = reply.value;
    if (text === checked) { return; }
    checked = text;
    if (!text.trim()) { findings.hidden = true; drawMarks("", []); return; }
    fetch("/api/v1/conversations/" + encodeURIComponent(conversationId) + "/check-reply", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken },
      body: JSON.stringify({ text: text })
    }).then(function (response) { return response.ok ? response.json() : null; })
      .then(function (result) {
        if (result && reply.value === text) { showFindings(result); drawMarks(text, result.findings); }
      })
      .catch(function () { /* the server checks again when the reply is sent */ });
  }
  function insertIntoReply(start, end, answer) {
    reply.value = reply.value.slice(0, start) + answer + reply.value.slice(end);
    reply.focus();
    reply.selectionStart = reply.selectionEnd = start + answer.length;
    reply.dispatchEvent(new Event("input"));
  }

  // A saved reply that also changes the conversation (a macro) offers those changes beside the
  // Send button, ticked; the agent can untick them. The sentence was written by the server.
  function offerMacro(button) {
    var key = button.getAttribute("data-macro");
    var pick = document.getElementById("macro-pick");
    var box = document.getElementById("macro-key");
    var said = document.getElementById("macro-said");
    if (!key || !pick || !box || !said) { return; }
    box.value = key;
    box.checked = true;
    said.textContent = button.getAttribute("data-macro-said");
    pick.hidden = false;
  }

  function bindComposer() {
    reply = document.getElementById("reply-text");
    findings = document.getElementById("reply-findings");
    marks = document.getElementById("reply-marks");
    checked = "";
    clearTimeout(checkTimer);
    if (!reply || !conversationId) { return; }
    reply.addEventListener("input", function () {
      var now = Date.now();
      if (now - lastTyping < 10000) { return; }
      lastTyping = now;
      // Colleagues opening this conversation see that a reply is being written.
      fetch("/api/v1/conversations/" + encodeURIComponent(conversationId) + "/presence", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken },
        body: JSON.stringify({ state: "typing" })
      }).catch(function () { /* advisory only */ });
    });
    if (findings) {
      reply.addEventListener("input", function () {
        // Marks of the old text would sit under the wrong words: drawn again once checked.
        drawMarks(reply.value, []);
        clearTimeout(checkTimer);
        checkTimer = setTimeout(checkDraft, 500);
      });
      reply.addEventListener("scroll", function () { if (marks) { marks.scrollTop = reply.scrollTop; } });
      if (reply.value.trim()) { checkDraft(); }
    }
    // `/key` then a space or Tab, at the start of the reply or after a space: that saved reply.
    savedReplies = {};
    document.querySelectorAll("form.canned-insert [data-key]").forEach(function (button) {
      savedReplies[button.getAttribute("data-key")] = button;
    });
    if (Object.keys(savedReplies).length) {
      reply.addEventListener("keydown", function (event) {
        if ((event.key !== " " && event.key !== "Tab") || event.isComposing) { return; }
        if (event.ctrlKey || event.metaKey || event.altKey || event.shiftKey) { return; }
        var end = reply.selectionStart;
        if (end !== reply.selectionEnd) { return; }
        var typed = /(^|\s)\/([a-z0-9][a-z0-9_-]*)$/.exec(reply.value.slice(0, end));
        if (!typed || !Object.prototype.hasOwnProperty.call(savedReplies, typed[2])) { return; }
        event.preventDefault();
        var chosen = savedReplies[typed[2]];
        insertIntoReply(end - typed[2].length - 1, end, chosen.getAttribute("data-answer"));
        offerMacro(chosen);
      });
    }
  }
  bindComposer();


  // -- inbox rows ----------------------------------------------------------------------------
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("table.inbox tr.conv")); }

  function select(index) {
    var all = rows();
    if (!all.length) { return; }
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (r) { r.classList.remove("selected"); });
    all[index].classList.add("selected");
    var link = all[index].querySelector("a.subject");
    if (link) { link.focus({ preventScroll: true }); }
    all[index].scrollIntoView({ block: "nearest" });
  }

  // The inbox remembers its order (with the agent's filters), so j / k inside a conversation go
  // to the next or previous one of the list the agent came from.
  var ORDER_KEY = "relaydesk-inbox-order";
  function rememberOrder() {
    var hrefs = rows().map(function (r) { return r.getAttribute("data-href"); });
    if (!hrefs.length) { return; }
    try { sessionStorage.setItem(ORDER_KEY, JSON.stringify(hrefs)); } catch (e) { /* storage off: j / k stay in the inbox */ }
  }
  function neighbour(step) {
    var order;
    try { order = JSON.parse(sessionStorage.getItem(ORDER_KEY) || "[]"); } catch (e) { return null; }
    var here = order.indexOf(location.pathname);
    if (here < 0) { return null; }
    var next = order[here + step];
    // Only a conversation's own address is followed, whatever else the storage holds.
    return typeof next === "string" && /^\/conversations\/\d+$/.test(next) ? next : null;
  }
  rememberOrder();

  function selectedIndex() {
    var all = rows();
    for (var i = 0; i < all.length; i++) { if (all[i].classList.contains("selected")) { return i; } }
    return -1;
  }

  // -- the reading pane: on a wide screen a conversation opens beside the list --------------------
  var reader = document.getElementById("reader");
  var readerFrame = document.getElementById("reader-frame");
  var wide = window.matchMedia ? window.matchMedia("(min-width: 1400px)") : null;
  var inPane = document.body.classList.contains("in-pane");

  function openConversation(href) {
    if (!reader || !readerFrame || !wide || !wide.matches) { location.href = href; return; }
    readerFrame.src = href + "?pane=1";
    var full = document.getElementById("reader-full");
    if (full) { full.href = href; }
    reader.hidden = false;
    document.body.classList.add("split-open");
    rows().forEach(function (r) {
      var here = r.getAttribute("data-href") === href;
      r.classList.toggle("selected", here);
      r.classList.toggle("in-reader", here);
    });
  }
  function closeReader() {
    if (!reader) { return; }
    reader.hidden = true;
    readerFrame.removeAttribute("src");
    document.body.classList.remove("split-open");
    rows().forEach(function (r) { r.classList.remove("in-reader"); });
  }
  var closeButton = document.getElementById("reader-close");
  if (closeButton) { closeButton.addEventListener("click", closeReader); }
  if (wide && wide.addEventListener) {
    wide.addEventListener("change", function () { if (!wide.matches) { closeReader(); } });
  }
  // j / k inside the pane move along the list that holds it (messages from this site only).
  window.addEventListener("message", function (event) {
    if (event.origin !== location.origin || !event.data || event.data.relaydesk !== "step") { return; }
    var i = selectedIndex();
    var all = rows();
    var next = all[Math.max(0, Math.min(all.length - 1, i + (event.data.by > 0 ? 1 : -1)))];
    if (next) { openConversation(next.getAttribute("data-href")); }
  });

  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("tr.conv[data-href]");
    if (!row) { return; }
    var link = event.target.closest("a.subject, a.contact");
    if (link) {
      // A new tab or window (Ctrl, Cmd, Shift, middle click) stays the browser's.
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) { return; }
      event.preventDefault();
      openConversation(row.getAttribute("data-href"));
      return;
    }
    if (event.target.closest("a, button, input, select, textarea, td.pick-cell")) { return; }
    if (String(window.getSelection())) { return; }
    openConversation(row.getAttribute("data-href"));
  });

  // -- keyboard shortcuts --------------------------------------------------------------------
  var pendingG = false;
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target.closest && target.closest("input, textarea, select, [contenteditable]");
    if (typing) {
      if (target.tagName === "TEXTAREA" && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        if (target.form) { target.form.requestSubmit(); }
      } else if (event.key === "Escape") {
        target.blur();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var key = event.key;
    if (pendingG) {
      pendingG = false;
      if (key === "i") { (inPane ? window.top.location : location).href = "/"; event.preventDefault(); }
      return;
    }
    if (key === "g") { pendingG = true; setTimeout(function () { pendingG = false; }, 1500); return; }
    if (key === "?") {
      var help = document.getElementById("shortcuts");
      if (help) { help.open = !help.open; if (help.open) { help.scrollIntoView({ block: "nearest" }); } }
      event.preventDefault();
      return;
    }
    if (key === "/") {
      var search = document.querySelector("input[name=q]");
      if (search) { search.focus(); search.select(); event.preventDefault(); }
      return;
    }
    if ((key === "j" || key === "k") && inPane) {
      window.parent.postMessage({ relaydesk: "step", by: key === "j" ? 1 : -1 }, location.origin);
      event.preventDefault();
      return;
    }
    if ((key === "j" || key === "k") && conversationId) {
      var next = neighbour(key === "j" ? 1 : -1);
      if (next) { location.href = next; event.preventDefault(); }
      return;
    }
    if (key === "j" || key === "k") {
      var i = selectedIndex();
      select(key === "j" ? i + 1 : (i < 0 ? 0 : i - 1));
      // With the pane open, the selected conversation is the one shown.
      if (reader && !reader.hidden) {
        var picked = document.querySelector("tr.conv.selected");
        if (picked) { openConversation(picked.getAttribute("data-href")); }
      }
      event.preventDefault();
      return;
    }
    if (key === "o" || key === "Enter") {
      var chosen = document.querySelector("tr.conv.selected");
      if (chosen) { openConversation(chosen.getAttribute("data-href")); event.preventDefault(); }
      return;
    }
    if (key === "Escape" && reader && !reader.hidden) { closeReader(); return; }
    var box = key === "r" ? reply : key === "n" ? document.getElementById("note-text") : null;
    if (box) { box.focus(); event.preventDefault(); return; }
    // A conversation's actions carry their key: a button is pressed, a field is focused.
    var action = document.querySelector('[data-shortcut="' + CSS.escape(key) + '"]');
    if (action) {
      event.preventDefault();
      if (action.tagName === "BUTTON") { action.click(); } else { action.focus(); }
    }
  });

  // -- bulk actions: the bar shows once a row is ticked; "all" ticks every row of the page -----------
  var bulkBar = document.querySelector("[data-bulk-bar]");
  function syncBulk() {
    if (!bulkBar) { return; }
    var picks = Array.prototype.slice.call(document.querySelectorAll("input[data-bulk-pick]"));
    var ticked = picks.filter(function (p) { return p.checked; }).length;
    var all = document.querySelector("input[data-bulk-all]");
    if (all) {
      all.checked = picks.length > 0 && ticked === picks.length;
      all.indeterminate = ticked > 0 && ticked < picks.length;
    }
    bulkBar.hidden = ticked === 0;
    if (ticked === 0 && missed) { refresh(); }
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target.matches) { return; }
    if (target.matches("input[data-bulk-all]")) {
      document.querySelectorAll("input[data-bulk-pick]").forEach(function (p) { p.checked = target.checked; });
    }
    if (target.matches("input[data-bulk-all], input[data-bulk-pick]")) { syncBulk(); }
  });
  syncBulk();

  // -- the language switcher applies as soon as a language is picked ------------------------------
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // -- a form that deletes asks first (its question is in the page's language) ---------------------
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form[data-confirm]") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // -- a copy button puts the text of the element it names on the clipboard (webhook addresses) --
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      var said = button.textContent;
      button.textContent = button.getAttribute("data-copied") || said;
      window.setTimeout(function () { button.textContent = said; }, 1500);
    });
  });

})();
