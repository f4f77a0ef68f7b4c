// The dashboard's only client script, served as /assets/dashboard.js (no CDN, no inline
// script, so the pages can use a strict Content-Security-Policy). It is plain browser
// JavaScript kept as a string, so it is byte-identical whatever bundles the server
// (esbuild for Lambda and the CLI, tsx, vitest) — Function#toString was not, as
// transformers inject helpers such as `__name`. test/unit/dashboard-render.test.ts
// compiles it; test/e2e/dashboard-browser.test.ts runs it in Chromium.
//
// What it does: every `data-refresh` seconds (30) it fetches the current page (its URL,
// so the same page of a list with the same filters) and swaps
// the <main> content, the summary bar and the "updated" line in place, so the scroll
// position, focus and text selection are kept. A session that expired while the page was
// open (a redirect to /login, a 401, or the login form served at `/`) sends the browser to
// the login page. `window.vigilRefresh()` (and the "Refresh now"
// button) refreshes at once.
export const CLIENT_JS = `"use strict";
(function () {
  var body = document.body;
  var seconds = Number(body.getAttribute("data-refresh") || "30");
  var interval = isFinite(seconds) && seconds > 0 ? seconds * 1000 : 30000;
  var timer = 0;
  var running = false;

  function setStatus(text, failed) {
    var el = document.getElementById("refresh-status");
    if (!el) return;
    el.textContent = text;
    el.setAttribute("data-failed", failed ? "true" : "false");
  }

  // a filter or search field being typed in is not swapped away under the user
  function editing() {
    var a = document.activeElement;
    return !!a && (a.tagName === "INPUT" || a.tagName === "SELECT" || a.tagName === "TEXTAREA");
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (document.hidden || editing()) { schedule(); return; }
      refresh();
    }, interval);
  }

  function toLogin() {
    location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
  }

  function refresh() {
    if (running) return Promise.resolve(false);
    running = true;
    return fetch(location.href, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { "x-vigil-refresh": "1" }
    }).then(function (res) {
      if (res.status === 401 || new URL(res.url).pathname === "/login") {
        toLogin();
        return false;
      }
      return res.text().then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html");
        // "/" answers the login form itself (no redirect) once the session is gone
        if (next.body && next.body.getAttribute("data-page") === "login") {
          toLogin();
          return false;
        }
        ["main", "summary", "updated"].forEach(function (id) {
          var from = next.getElementById(id);
          var to = document.getElementById(id);
          if (from && to) to.innerHTML = from.innerHTML;
        });
        if (next.title) document.title = next.title;
        setStatus(res.ok ? "" : "refresh: HTTP " + res.status, !res.ok);
        body.setAttribute("data-refreshed", String(Number(body.getAttribute("data-refreshed") || "0") + 1));
        return res.ok;
      });
    }).catch(function (err) {
      setStatus("refresh failed (" + err + "); retrying", true);
      return false;
    }).finally(function () {
      running = false;
      schedule();
    });
  }

  window.vigilRefresh = refresh;
  var button = document.getElementById("refresh-now");
  if (button) button.addEventListener("click", function (ev) { ev.preventDefault(); refresh(); });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) schedule(); });
  body.setAttribute("data-client", "ready");
  schedule();
})();
`;
