// While a job runs, its page follows it in place: every two seconds the page is read again and
// only its progress is put where it was, so the reader's focus and position stay put and the
// page never reloads (WCAG 2.2.1: a timed reload is not for everyone). Without this script the
// page has a link that shows the progress now.
(function () {
  "use strict";

  var DELAY = 2000;
  var running = document.querySelector("[data-job-running]");
  if (!running || !window.fetch || !window.DOMParser) { return; }

  function retryLater() { window.setTimeout(poll, 2 * DELAY); }

  function apply(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var stillRunning = fresh.querySelector("[data-job-running]");
    if (stillRunning) {
      var status = running.querySelector("[role=status]");
      var freshStatus = stillRunning.querySelector("[role=status]");
      // Only a change is written: a live region re-announces whatever is written into it.
      if (status && freshStatus && status.textContent !== freshStatus.textContent) {
        status.innerHTML = freshStatus.innerHTML;
      }
      window.setTimeout(poll, DELAY);
      return;
    }
    // Done or failed: the result takes the progress's place; its own status or alert
    // region announces it.
    var main = document.querySelector("main");
    var freshMain = fresh.querySelector("main");
    if (main && freshMain) {
      main.innerHTML = freshMain.innerHTML;
      document.title = fresh.title;
    }
  }

  function poll() {
    window.fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (reply) {
        if (!reply.ok) { retryLater(); return null; }
        return reply.text();
      })
      .then(function (html) { if (html !== null) { apply(html); } })
      .catch(retryLater);
  }

  window.setTimeout(poll, DELAY);
}());
