// The library page: "choose all", the digest button only with a report chosen, and a word while
// the digest is written. The page works without it (the forms post as they are).
(function () {
  "use strict";
  var form = document.getElementById("digest");
  var all = document.getElementById("all");
  var button = document.getElementById("make");
  if (!form || !button) { return; }
  function boxes() { return Array.prototype.slice.call(form.querySelectorAll("input[name=ids]")); }
  function update() {
    var chosen = boxes().filter(function (b) { return b.checked; }).length;
    button.disabled = chosen === 0;
    button.textContent = chosen ? "Digest of the " + chosen + " chosen report" + (chosen === 1 ? "" : "s") : "Digest of the chosen reports";
  }
  if (all) {
    all.addEventListener("change", function () {
      boxes().forEach(function (b) { b.checked = all.checked; });
      update();
    });
  }
  form.addEventListener("change", update);
  form.addEventListener("submit", function () {
    document.getElementById("status").textContent = "writing the digest…";
    button.disabled = true;
  });
  update();
})();
