// Vigil portal script: an error collector and live updates over the
// server-sent event stream. Loaded from /assets (the CSP allows no inline
// script), before the page body, so it sees every error of the page.
(function () {
  "use strict";
  var KEY = "vigil-errors";
  function record(what) {
    try {
      var list = JSON.parse(sessionStorage.getItem(KEY) || "[]");
      list.push(String(what) + " @ " + location.pathname);
      sessionStorage.setItem(KEY, JSON.stringify(list));
    } catch (e) { /* storage refused: nothing to keep */ }
  }
  window.addEventListener("error", function (e) { record("error: " + (e.message || e.type)); }, true);
  window.addEventListener("unhandledrejection", function (e) { record("rejection: " + e.reason); });
  document.addEventListener("securitypolicyviolation", function (e) {
    record("csp: " + e.violatedDirective + " " + (e.blockedURI || "inline"));
  });
  var origError = console.error;
  console.error = function () {
    record("console: " + Array.prototype.join.call(arguments, " "));
    return origError.apply(console, arguments);
  };

  // Live updates: the body names what the page shows (data-live-tenant,
  // data-live-incident); a notice about it refreshes the page's regions
  // marked data-live (fetched again, swapped in place), leaving forms the
  // reader is typing in alone.
  var pending = null;
  // Set once the page is being left (a link followed, a form sent): a
  // refresh still under way is then cut off by the browser, which is no
  // error.
  var leaving = false;
  var aborter = window.AbortController ? new AbortController() : null;
  function leave() {
    leaving = true;
    if (pending) clearTimeout(pending);
    if (aborter) aborter.abort();
  }
  window.addEventListener("beforeunload", leave);
  window.addEventListener("pagehide", leave);
  function refresh() {
    pending = null;
    if (leaving) return;
    fetch(location.href, {
      credentials: "same-origin",
      headers: { "X-Vigil-Live": "1" },
      signal: aborter ? aborter.signal : undefined
    })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (old) {
          var fresh = doc.getElementById(old.id);
          if (!fresh || old.contains(document.activeElement)) return;
          old.replaceWith(document.importNode(fresh, true));
        });
        var chat = document.querySelector(".chat");
        if (chat) chat.scrollTop = chat.scrollHeight;
        if (window.htmx) window.htmx.process(document.body);
        document.body.dispatchEvent(new CustomEvent("vigil:refreshed"));
      })
      .catch(function (e) { if (!leaving) record("live refresh: " + e); });
  }
  function relevant(n) {
    var b = document.body.dataset;
    if (b.liveIncident) return n.incident === b.liveIncident;
    if (b.liveTenant) return n.tenant === b.liveTenant;
    return true;
  }
  function start() {
    var b = document.body.dataset;
    if (!b.live || !window.EventSource) return;
    var status = document.getElementById("live-status");
    var es = new EventSource("/api/v1/events/stream");
    es.onopen = function () { if (status) status.textContent = "live"; };
    es.onerror = function () { if (status) status.textContent = "reconnecting"; };
    ["incident_created", "incident_updated", "task", "comment", "internal_comment", "message", "inquiry"].forEach(function (kind) {
      es.addEventListener(kind, function (e) {
        var n;
        try { n = JSON.parse(e.data); } catch (err) { return; }
        if (!relevant(n)) return;
        if (pending) clearTimeout(pending);
        pending = setTimeout(refresh, 120);
      });
    });
    es.addEventListener("missed", function () { refresh(); });
    window.addEventListener("pagehide", function () { es.close(); });
    window.addEventListener("beforeunload", function () { es.close(); });
  }
  // Forms sent by htmx (the chat) are emptied once their post succeeded.
  document.addEventListener("htmx:afterRequest", function (e) {
    var f = e.target;
    if (f && f.matches && f.matches("form[data-reset]") && e.detail.successful) f.reset();
  });
  // A refused htmx post (an empty message, a closed chat) shows the
  // server's reason under its form.
  document.addEventListener("htmx:responseError", function (e) {
    var f = e.target;
    if (!f || !f.matches || !f.matches("form")) return;
    var why = "The server refused this (" + e.detail.xhr.status + ").";
    try {
      var doc = new DOMParser().parseFromString(e.detail.xhr.responseText, "text/html");
      var p = doc.querySelector(".error");
      if (p) why = p.textContent;
    } catch (err) { /* keep the plain reason */ }
    var box = f.querySelector(".form-error");
    if (!box) {
      box = document.createElement("p");
      box.className = "error form-error";
      box.setAttribute("role", "alert");
      f.appendChild(box);
    }
    box.textContent = why;
  });
  var chatScroll = function () {
    var chat = document.querySelector(".chat");
    if (chat) chat.scrollTop = chat.scrollHeight;
  };
  // Ctrl+Enter (or Cmd+Enter) in a query editor runs it: Enter alone
  // writes a new line, as in any text area.
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && t && t.id === "hunt-query" && t.form) {
      e.preventDefault();
      if (t.form.requestSubmit) { t.form.requestSubmit(); } else { t.form.submit(); }
    }
  });
  document.addEventListener("DOMContentLoaded", function () { chatScroll(); start(); });
})();
