// Light progressive enhancement only: every act works without this file.
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter || form.querySelector("[data-confirm]");
  var question = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
