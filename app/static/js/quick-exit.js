/* Senim: the quick-exit button ([data-quick-exit]) of Street Law and "ask for help".
 *
 * A click (or Enter on the focused link), or Esc pressed twice within a second, hides the page at once and
 * replaces it in the browser's history with the neutral site, so Back does not bring it back. Without this
 * file the button is still an ordinary link to the same site.
 */
(function () {
  "use strict";

  var link = document.querySelector("[data-quick-exit]");
  if (!link) { return; }
  var lastEscape = 0;

  function leave() {
    document.documentElement.classList.add("is-leaving");   /* hides everything at once (streetlaw.css) */
    document.title = "";
    window.location.replace(link.href);
  }

  link.addEventListener("click", function (event) {
    event.preventDefault();
    leave();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var now = Date.now();
    if (now - lastEscape < 1000) {
      leave();
    }
    lastEscape = now;
  });
})();
