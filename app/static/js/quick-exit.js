/* Senim: the quick-exit button ([data-quick-exit]) of Street Law and "ask for help".
 *
 * A click (or Enter on the focused link), or Esc pressed twice within a second, hides the page at once and
 * replaces it in the browser's history with the neutral site, so Back does not bring it back. Without this
 * file the button is still an ordinary link to the same site.
 *
 * This file is loaded in <head> without `defer`, and listens on the document rather than on the link: so it is
 * listening before the button is even drawn, and a child who taps it while the page is still loading does not
 * leave a way back to the page in the history.
 */
(function () {
  "use strict";

  var lastEscape = 0;

  function leave(href) {
    document.documentElement.classList.add("is-leaving");   /* hides everything at once (streetlaw.css) */
    document.title = "";
    window.location.replace(href);
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    var link = target && target.closest ? target.closest("[data-quick-exit]") : null;
    if (!link) { return; }
    event.preventDefault();
    leave(link.href);
  }, true);

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var now = Date.now();
    if (now - lastEscape < 1000) {
      var link = document.querySelector("[data-quick-exit]");
      if (link) { leave(link.href); }
    }
    lastEscape = now;
  });
})();
