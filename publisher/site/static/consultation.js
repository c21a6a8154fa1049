// Progressive enhancement of the consultation forms: each form gets a random submission key (a
// double click then stores one comment), and the count and the window's state are refreshed from
// the service. Without this script the forms still post and the page still reads.
(function () {
  function key() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }
  var forms = document.querySelectorAll("form.consultation-form");
  forms.forEach(function (form) {
    form.querySelector("input[name=submission_key]").value = key();
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      // Disabled after the browser has taken the submission: a second click sends nothing new.
      setTimeout(function () { button.disabled = true; }, 0);
    });
  });
  var box = document.querySelector("section.consultation");
  if (!box || !forms.length || !window.fetch) return;
  fetch(forms[0].getAttribute("data-counts"), { headers: { Accept: "application/json" } })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (data) {
      if (!data) return;
      box.querySelector(".consultation-count").textContent = data.total;
      box.querySelector(".consultation-phase").textContent = data.phase_label;
      if (data.phase !== "open") {
        box.querySelectorAll(".consultation-forms").forEach(function (f) { f.hidden = true; });
      }
    })
    .catch(function () {});
})();
