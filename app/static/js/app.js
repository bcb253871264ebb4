/* Senim: progressive enhancement only. Every page works without this file.
 *
 * 1. Menu button for the main navigation on narrow screens (aria-expanded, Escape closes).
 * 2. select[data-autosubmit]: submits its form when the choice changes.
 * 3. form[data-confirm] (or a submit button with data-confirm): asks before submitting.
 * 4. Moves focus to a form's error summary ([data-error-summary]) when the page loads.
 * 5. [data-refresh-every="N"]: reloads the page after N seconds (a running job's progress), unless the reader
 *    presses its [data-refresh-stop] button (WCAG 2.2.1: a refresh the reader can turn off, unlike <meta>).
 *
 * This file is loaded in <head> without `defer`, and 2 and 3 listen on the document at once: a form submitted
 * while the page is still loading (a parent tapping "Withdraw my consent" on a slow phone) still asks first.
 * The rest waits for the page (DOMContentLoaded).
 */
(function () {
  "use strict";

  function initNav() {
    var header = document.querySelector("[data-nav]");
    if (!header) { return; }
    var button = header.querySelector("[data-nav-toggle]");
    if (!button) { return; }
    var panel = document.getElementById(button.getAttribute("aria-controls"));
    if (!panel) { return; }

    function setOpen(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      panel.classList.toggle("is-open", open);
    }

    button.hidden = false;
    header.classList.add("nav-enhanced");
    setOpen(false);

    button.addEventListener("click", function () {
      setOpen(button.getAttribute("aria-expanded") !== "true");
    });

    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        button.focus();
      }
    });
  }

  function listenAutosubmit() {
    document.addEventListener("change", function (event) {
      var target = event.target;
      if (!(target instanceof HTMLSelectElement) || !target.matches("[data-autosubmit]") || !target.form) {
        return;
      }
      if (typeof target.form.requestSubmit === "function") {
        target.form.requestSubmit();   /* fires "submit", so data-confirm still applies */
      } else {
        target.form.submit();
      }
    });
  }

  function hideAutosubmitButtons() {
    /* The form's own submit button is only needed without JavaScript. */
    var selects = document.querySelectorAll("select[data-autosubmit]");
    Array.prototype.forEach.call(selects, function (select) {
      if (!select.form) { return; }
      var buttons = select.form.querySelectorAll("[data-autosubmit-button]");
      Array.prototype.forEach.call(buttons, function (b) { b.hidden = true; });
    });
  }

  function listenConfirm() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement)) { return; }
      var submitter = event.submitter;
      var message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
      if (message && !window.confirm(message)) {
        event.preventDefault();
      }
    });
  }

  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary && typeof summary.focus === "function") {
      summary.focus();
    }
  }

  function initRefresh() {
    var box = document.querySelector("[data-refresh-every]");
    if (!box) { return; }
    var seconds = parseInt(box.getAttribute("data-refresh-every"), 10) || 5;
    var timer = window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
    var stop = box.querySelector("[data-refresh-stop]");
    if (!stop) { return; }
    stop.hidden = false;
    stop.addEventListener("click", function () {
      window.clearTimeout(timer);
      stop.hidden = true;
    });
  }

  function init() {
    initNav();
    hideAutosubmitButtons();
    focusErrorSummary();
    initRefresh();
  }

  listenAutosubmit();
  listenConfirm();

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
