/* Senim Street Law: keeps the pages of this language on the phone for offline use.
 *
 * Registers the service worker named by [data-street-law] (served from /street-law/, so it controls Street
 * Law only), then asks it to keep every page of this language; once kept, [data-offline-status] says so.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-street-law]");
  if (!root || !("serviceWorker" in navigator) || !window.MessageChannel) { return; }
  var lang = root.getAttribute("data-lang");
  var status = document.querySelector("[data-offline-status]");

  function saved() {
    document.documentElement.setAttribute("data-offline-ready", lang);
    if (status) {
      status.textContent = status.getAttribute("data-saved");
      status.hidden = false;
    }
  }

  navigator.serviceWorker.register(root.getAttribute("data-sw"), {scope: root.getAttribute("data-scope")})
    .then(function () { return navigator.serviceWorker.ready; })
    .then(function (registration) {
      var worker = registration.active;
      if (!worker) { return; }
      var channel = new MessageChannel();
      channel.port1.onmessage = function (event) {
        if (event.data && event.data.saved) { saved(); }
      };
      worker.postMessage({type: "save-language", lang: lang}, [channel.port2]);
    })
    .catch(function () { /* no offline copy: the pages still work online */ });
})();
