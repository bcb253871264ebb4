/* Senim Street Law: the service worker (served from /street-law/sw.js, so its scope is /street-law/ only).
 *
 * It keeps on the phone only what it is told below: the Street Law pages of a language (once the page asks for
 * that language), the static files those pages use, and an offline page with the help lines. Any other address,
 * and every request that is not a GET, goes to the network untouched and is never stored: personal pages
 * (a pupil's own page, "ask for help", anything behind a sign-in) never reach this cache.
 * The cache's name carries a hash of the texts and files; a new version deletes the old cache when it starts.
 */
"use strict";

var WORKER = {{ worker | tojson }};
var KNOWN = new Set(WORKER.assets);
Object.keys(WORKER.pages).forEach(function (lang) {
  WORKER.pages[lang].forEach(function (url) { KNOWN.add(url); });
});
var LANGUAGES = Object.keys(WORKER.pages);

function offlinePages() {
  return LANGUAGES.map(function (lang) { return WORKER.offline[lang]; });
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(WORKER.cache)
      .then(function (cache) { return cache.addAll(WORKER.assets.concat(offlinePages())); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (names) {
        return Promise.all(names.filter(function (name) {
          return name.indexOf(WORKER.prefix) === 0 && name !== WORKER.cache;
        }).map(function (name) { return caches.delete(name); }));
      })
      .then(function () { return self.clients.claim(); })
  );
});

/* Fetches only the pages not kept yet: every page view asks again, and a phone's data is not wasted. */
function keepMissing(cache, urls) {
  return Promise.all(urls.map(function (url) {
    return cache.match(url).then(function (kept) { return kept || cache.add(url); });
  }));
}

/* A page asks to keep its language: {type: "save-language", lang: "kk"}; the answer says whether it worked. */
self.addEventListener("message", function (event) {
  var data = event.data || {};
  var port = event.ports && event.ports[0];
  if (data.type !== "save-language" || !WORKER.pages[data.lang]) { return; }
  event.waitUntil(
    caches.open(WORKER.cache)
      .then(function (cache) { return keepMissing(cache, WORKER.pages[data.lang]); })
      .then(function () { if (port) { port.postMessage({saved: true, lang: data.lang}); } },
            function () { if (port) { port.postMessage({saved: false, lang: data.lang}); } })
  );
});

function languageOf(path) {
  var rest = path.slice(WORKER.scope.length);
  var lang = rest.split("/")[0];
  return WORKER.pages[lang] ? lang : null;
}

function anyCached(urls) {
  return urls.reduce(function (found, url) {
    return found.then(function (response) { return response || caches.match(url, {cacheName: WORKER.cache}); });
  }, Promise.resolve(undefined));
}

/* Offline: the page itself if kept, else the offline page of its language (or of any language). */
function fallback(path) {
  var lang = languageOf(path);
  var choices = [path];
  if (lang) { choices.push(WORKER.offline[lang]); }
  LANGUAGES.forEach(function (l) { choices.push(WORKER.home[l]); });
  return anyCached(choices.concat(offlinePages())).then(function (response) {
    return response || Response.error();
  });
}

function fromNetworkKeeping(request, path) {
  return fetch(request).then(function (response) {
    if (response.ok && response.type === "basic" && !response.redirected) {
      var copy = response.clone();
      caches.open(WORKER.cache).then(function (cache) { return cache.put(path, copy); });
    }
    return response;
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.search) { return; }
  var path = url.pathname;
  if (path === WORKER.scope) {
    /* /street-law/ picks the language: always asked of the server, never kept. */
    event.respondWith(fetch(request).catch(function () { return fallback(path); }));
    return;
  }
  if (!KNOWN.has(path)) { return; }
  if (WORKER.assets.indexOf(path) !== -1) {
    event.respondWith(caches.match(path, {cacheName: WORKER.cache}).then(function (kept) {
      return kept || fromNetworkKeeping(request, path);
    }));
    return;
  }
  /* A Street Law page: the newest from the network when online, the kept copy when not. */
  event.respondWith(fromNetworkKeeping(request, path).catch(function () { return fallback(path); }));
});
