/* Senim: the print button of pages meant to be printed (code cards). Progressive enhancement: without this file
 * the button stays hidden and the page says to use the browser's print command. No inline script: the
 * Content-Security-Policy forbids it. */
(function () {
  "use strict";

  function init() {
    var buttons = document.querySelectorAll("[data-print]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
