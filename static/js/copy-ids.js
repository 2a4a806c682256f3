// "Copy ids" on a match card: without JS the ids stay in a readonly field to select by hand.
(function () {
  "use strict";
  function reveal(root) {
    root.querySelectorAll(".copy-button[hidden]").forEach(function (button) {
      if (navigator.clipboard) button.hidden = false;
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".copy-button");
    if (!button) return;
    var field = document.getElementById(button.dataset.copyFrom);
    if (!field) return;
    navigator.clipboard.writeText(field.value).then(function () {
      button.textContent = "Copied";
    });
  });
  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  document.addEventListener("htmx:afterSettle", function (event) { reveal(event.target); });
})();
