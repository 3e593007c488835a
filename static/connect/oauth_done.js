// The end of an OAuth consent in a popup: tell the credential form that opened it (our own
// origin only: the host app's page never receives it), then close. Outside a popup, or when
// the opener is gone, go on to the form in this window.
(function () {
  "use strict";
  var card = document.querySelector("[data-oauth-result]");
  if (!card) return;
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
