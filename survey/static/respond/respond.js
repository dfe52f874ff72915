// Optional improvements of the respondent's pages; every page works without this script.
(function () {
  "use strict";

  // Bring the error summary to the reader's attention (screen readers read it on focus).
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

  // A callback's channel and consent matter only when the respondent answers yes.
  document.querySelectorAll("[data-callback]").forEach(function (block) {
    var name = block.getAttribute("data-callback");
    var details = document.getElementById(name + "-details");
    if (!details) { return; }
    function update() {
      var yes = block.querySelector('input[name="' + name + '"][value="yes"]');
      var hasError = details.querySelector(".has-error");
      details.hidden = !((yes && yes.checked) || hasError);
    }
    block.querySelectorAll('input[name="' + name + '"]').forEach(function (input) {
      input.addEventListener("change", update);
    });
    update();
  });

  // One submission per click: a double click would only be a replay (the server recognises
  // it), but disabling the button tells the respondent that the page is on its way.
  document.querySelectorAll("form.survey-form").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) { window.setTimeout(function () { button.disabled = true; }, 0); }
    });
  });
})();
