// Credential forms: a busy state while credentials are checked, show/hide for secrets, and
// live progress on the status page. Every page works without this file.
(function () {
  "use strict";

  var showBusy = window.connectShowBusy; // busy_text.js

  document.querySelectorAll("form[data-connect-form]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      button.setAttribute("aria-busy", "true");
      button.disabled = true;
      showBusy(button.querySelector(".button-label"), button);
    });
  });
  // Coming back with the browser's Back button must not leave a button stuck on "Checking".
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) window.location.reload();
  });

  document.querySelectorAll("form[data-connect-form] input[type=password]").forEach(function (input) {
    // The words come from the page, in its language (data-text-* on the form).
    var text = input.form.dataset;
    var name = input.labels[0] ? input.labels[0].textContent.trim() : "";
    var wrap = document.createElement("div");
    wrap.className = "secret-wrap";
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "secret-toggle";
    toggle.textContent = text.textShow;
    toggle.setAttribute("aria-controls", input.id);
    // The name says what a press does, and contains the visible word ("Hide" → "Hide API
    // key"; WCAG 2.5.3 Label in Name), so it changes with the text. It carries the state
    // itself: aria-pressed on top would read as "Hide API key, pressed", a second, clashing
    // state.
    function label(shown) {
      var word = shown ? text.textHide : text.textShow;
      var withField = shown ? text.textHideField : text.textShowField;
      return name ? withField.replace("{field}", name) : word;
    }
    toggle.setAttribute("aria-label", label(false));
    toggle.addEventListener("click", function () {
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      toggle.textContent = show ? text.textHide : text.textShow;
      toggle.setAttribute("aria-label", label(show));
    });
    wrap.appendChild(toggle);
  });

  // After a failed submit, the error summary has focus, so that it is read out and the next
  // Tab leads to its links. The form posts to a URL whose fragment names the summary, and
  // browsers focus a focusable fragment target (they skip `autofocus` on a URL with a
  // fragment); this does the same where a browser does not. A link of the summary puts the
  // cursor in its field and scrolls the field's label into view with it.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
    // Once loaded, the browser scrolls to the address's fragment (which names this summary),
    // in a cross-site frame inside the frame only: the host's page stays where the first
    // focus scrolled it, which may no longer show the summary. Focused again after that
    // scroll, it is brought into the host's window too (as portal.js does for its notices).
    window.addEventListener("load", function () {
      window.requestAnimationFrame(function () {
        if (document.activeElement !== summary) return;
        summary.blur();
        summary.focus();
      });
    });
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      var input = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!input) return;
      event.preventDefault();
      var label = document.querySelector("label[for='" + input.id + "']");
      (label || input).scrollIntoView();
      input.focus({ preventScroll: true });
    });
  }

  var card = document.querySelector("[data-status-url]");
  if (!card || !card.className.match(/state-running/)) return;
  var delay = 1000 * Number(card.dataset.pollSeconds || 2);

  // The detail is a live region: a screen reader reads it out whenever its text is replaced,
  // even by the same words, so only what changed is written (at every poll, the same sentence
  // was read out again every few seconds).
  function write(id, text) {
    var element = document.getElementById(id);
    if (element.textContent !== text) element.textContent = text;
  }

  function render(progress) {
    card.className = card.className.replace(/state-\w+/, "state-" + progress.state);
    write("progress-title", progress.title);
    write("progress-detail", progress.detail);
    var list = document.getElementById("progress-steps");
    list.replaceChildren.apply(list, progress.steps.map(function (step) {
      var item = document.createElement("li");
      item.className = "step step-" + step.status;
      [["step-icon", ""], ["step-label", step.label], ["step-status", step.status_label]]
        .forEach(function (part) {
          var span = document.createElement("span");
          span.className = part[0];
          span.textContent = part[1];
          if (part[0] === "step-icon") span.setAttribute("aria-hidden", "true");
          item.appendChild(span);
        });
      return item;
    }));
    if (progress.done) {
      document.title = progress.title + document.title.replace(/^[^·]*/, " ");
      document.getElementById("progress-actions").hidden = false;
    }
  }

  // The link stopped working while the page was open (expired, revoked, the integration
  // removed): it will not come back, so polling stops and the card says so, in the answer's
  // words (the link's language), else the page's own.
  function linkGone(error) {
    card.className = card.className.replace(/state-\w+/, "state-failed");
    var title = error.title || card.dataset.textLinkGoneTitle;
    document.getElementById("progress-title").textContent = title;
    document.getElementById("progress-detail").textContent =
      error.message || card.dataset.textLinkGoneDetail;
    document.getElementById("progress-steps").hidden = true;
    document.getElementById("progress-actions").hidden = true;
    document.title = title + document.title.replace(/^[^·]*/, " ");
  }

  function poll() {
    fetch(card.dataset.statusUrl, { credentials: "omit", cache: "no-store" })
      .then(function (response) {
        // A dead link answers 404/410 with {error: {code, title, message}}; a server error
        // may pass, so it is asked again.
        if (response.status >= 400 && response.status < 500) {
          return response.json()
            .catch(function () { return {}; })
            .then(function (body) { return { done: true, gone: (body && body.error) || {} }; });
        }
        return response.ok ? response.json() : null;
      })
      .then(function (progress) {
        if (progress && progress.gone) return linkGone(progress.gone);
        if (progress) render(progress);
        if (!progress || !progress.done) window.setTimeout(poll, delay);
      })
      .catch(function () { window.setTimeout(poll, delay * 2); });
  }
  window.setTimeout(poll, delay);
})();
