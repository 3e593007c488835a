// A button's busy text, for connect.js and oauth_popup.js (loaded before both). The text is
// data-busy-label, in the page's language. An attribute cannot hold the app label's language
// mark, so the page names a label it left English on, say, a German page (data-busy-app,
// data-busy-app-lang) and the text is built with it inside a marked span, as the page's own
// sentences have it (docs/i18n.md). Text only, never HTML.
(function () {
  "use strict";

  window.connectShowBusy = function (label, element) {
    var text = element.dataset.busyLabel;
    var app = element.dataset.busyApp || "";
    var at = app && element.dataset.busyAppLang ? text.indexOf(app) : -1;
    if (at < 0) {
      label.textContent = text;
      return;
    }
    var span = document.createElement("span");
    span.lang = element.dataset.busyAppLang;
    span.textContent = app;
    label.replaceChildren(text.slice(0, at), span, text.slice(at + app.length));
  };
})();
