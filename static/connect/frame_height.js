// Inside the host app's iframe, tell the host page how tall this page is, so that its iframe
// can be as tall as the page (no scrollbar inside the frame, no empty band below it):
//   {type: "connect-height", height: <CSS pixels>}
// posted on load and on every change of the page's height (a slot opening, an error shown,
// a section refreshed). Only the tenant's allowed origins, the pages that may frame this one
// (its CSP's frame-ancestors), are told: postMessage drops the message for any other origin.
// The host listens if it wants to; nothing here depends on it (connect/README.md, Embedding).
(function () {
  "use strict";

  if (window.parent === window) return; // not framed
  var script = document.currentScript;
  var origins = (script && script.dataset.origins ? script.dataset.origins : "")
    .split(" ")
    .filter(Boolean);
  if (!origins.length || !window.ResizeObserver) return;

  var root = document.documentElement;
  var told = -1;

  function tell() {
    // The element's own box, not scrollHeight: that is never less than the frame's height,
    // so a page that got shorter would never say so.
    var height = Math.ceil(root.getBoundingClientRect().height);
    if (height === told) return;
    told = height;
    origins.forEach(function (origin) {
      window.parent.postMessage({ type: "connect-height", height: height }, origin);
    });
  }

  // Called once layout is done, when observing starts and then at each change of size.
  new ResizeObserver(tell).observe(root);
})();
