// The end of an OAuth consent in a popup: tell the credential form that opened it (our own
// origin only: the host app's page never receives it), then close. Outside a popup, or when
// the opener is gone, go on to the form in this window.
(function () {
  "use strict";
  var card = document.querySelector("[data-oauth-result]");
  if (!card) return;
  // The address holds the app's `code` and our `state` (or the start's form token): spent by
  // now, but not for the address bar or the browser's history, where this page may stay.
  if (window.location.search && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname);
  }
  var message = {
    type: "connect-oauth",
    outcome: card.dataset.outcome,
    slot: card.dataset.slot,
    next: card.dataset.next
  };
  var opener = window.opener;
  if (opener && !opener.closed) {
    try {
      opener.postMessage(message, window.location.origin);
      window.close();
      return;
    } catch (error) { /* fall through: continue here */ }
  }
  if (card.dataset.next) window.location.replace(card.dataset.next);
})();
