// "Connect with <app>" on the credential form and "Reconnect" on the integration page: the
// app's consent page refuses to be framed, so it opens in a popup and the customer stays in the
// host app. Shared by both pages; every page works without it (the link's own href).
(function () {
  "use strict";

  var showBusy = window.connectShowBusy; // busy_text.js

  // "Connect with <app>": the app's consent page refuses to be framed, so it opens in a popup;
  // the popup's last page tells us the outcome by postMessage, which we accept only from our
  // own origin and from that popup. Where popups are blocked, the link's own href (with
  // target=_top) takes the whole window through the consent and back to this form.
  var consent = null;
  document.querySelectorAll("a[data-oauth-start]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var popup = window.open(link.dataset.popupUrl, "connect-oauth", "popup,width=520,height=720");
      if (!popup) return; // blocked: follow the link in the top window
      event.preventDefault();
      var label = link.querySelector(".button-label") || link;
      // The idle words as they are, their app label's mark included.
      var idle = Array.prototype.slice.call(label.childNodes);
      consent = { popup: popup, slot: link.dataset.slot };
      link.setAttribute("aria-busy", "true");
      showBusy(label, link);
      // Closed without an answer (the user gave up): the button is a button again.
      var watch = window.setInterval(function () {
        if (!popup.closed) return;
        window.clearInterval(watch);
        // `consent` stays: the popup's message may arrive just after it closed.
        if (consent && consent.popup === popup) {
          link.removeAttribute("aria-busy");
          label.replaceChildren.apply(label, idle);
        }
      }, 500);
    });
  });
  // A popup this window opened. The form may have been reloaded, or moved on (another slot
  // saved), while the consent was open: the new page has no `consent`, but the popup's opener
  // is still this frame, so its outcome is still shown rather than lost as the popup closes.
  function openedHere(source) {
    try {
      return !!source && source.opener === window;
    } catch (error) {
      return false; // not ours: another origin's window
    }
  }
  window.addEventListener("message", function (event) {
    if (event.origin !== window.location.origin) return;
    if (consent ? event.source !== consent.popup : !openedHere(event.source)) return;
    var data = event.data || {};
    if (data.type !== "connect-oauth") return;
    var slot = consent ? consent.slot : String(data.slot || "");
    var next = typeof data.next === "string" && /^\/connect\/[^/]/.test(data.next) ? data.next : "";
    if (!next) {
      next = window.location.pathname + "?oauth=" + encodeURIComponent(data.outcome || "expired") +
        "&slot=" + encodeURIComponent(slot) + "#slot-" + encodeURIComponent(slot) + "-errors";
    }
    consent = null;
    window.location.assign(next);
  });
})();
