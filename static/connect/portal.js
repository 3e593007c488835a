// The integration page: while a change is being applied or a run shown has not ended, look
// again every few seconds (the page says so with data-portal-refresh; without scripts a
// <noscript> refresh does it), unless the person is in the middle of typing or has tabbed
// to a control. A failed form puts focus on its error summary (a change
// refused for its rate, on the notice that says so); a change done (settings saved, a flow
// switched, a connection saved, a run's errors retried or resolved) on the notice that says so,
// since the page is loaded anew and a status message present at load is not announced.
(function () {
  "use strict";

  var summary = document.querySelector("[data-error-summary]") || document.querySelector("[data-notice-focus]");
  if (summary) {
    summary.focus();
    // Once loaded, the browser scrolls to the address's fragment (which names this notice or
    // summary), in a cross-site frame inside the frame only: the host's page stays where the
    // first focus scrolled it, which may no longer show the notice. Focused again after that
    // scroll, it is brought into the host's window too.
    window.addEventListener("load", function () {
      window.requestAnimationFrame(function () {
        if (document.activeElement !== summary) return;
        summary.blur();
        summary.focus();
      });
    });
  }

  // A link of the error summary puts the cursor in its field and brings the whole field into
  // view (its label, help and message sit above the input; the browser's own jump would hide
  // them above the window's top), as on the credential form.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-error-summary] a[href^='#']");
    var input = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!input) return;
    event.preventDefault();
    (input.closest(".field") || input).scrollIntoView();
    input.focus({ preventScroll: true });
  });

  var holder = document.querySelector("[data-portal-refresh]");
  if (!holder) return;
  var seconds = parseInt(holder.getAttribute("data-portal-refresh"), 10) || 3;
  var edited = false;
  document.addEventListener("input", function () { edited = true; });
  // A reload puts focus back at the top of the page: a keyboard user on a run, a button or a
  // link would lose their place every few seconds. So the page waits while focus is on a
  // field, or on anything the keyboard brought it to (:focus-visible; a link clicked with the
  // mouse is not, and a click on a link leaves the page anyway), other than the notice this
  // script focused itself.
  function personsFocus() {
    var active = document.activeElement;
    if (!active || active === document.body || active === summary) return false;
    return /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName) || active.matches(":focus-visible");
  }
  window.setTimeout(function again() {
    if (edited || personsFocus()) {
      window.setTimeout(again, seconds * 1000);
      return;
    }
    window.location.reload();
  }, seconds * 1000);
})();
