// The library page: "choose all", the digest and remove buttons only with a report chosen, a
// question before removing, and a word while the digest is written. The page works without it
// (the forms post as they are).
(function () {
  "use strict";
  var form = document.getElementById("digest");
  var all = document.getElementById("all");
  var button = document.getElementById("make");
  var remove = document.getElementById("remove");
  if (!form || !button) { return; }
  function boxes() { return Array.prototype.slice.call(form.querySelectorAll("input[name=ids]")); }
  function update() {
    var chosen = boxes().filter(function (b) { return b.checked; }).length;
    button.disabled = chosen === 0;
    remove.disabled = chosen === 0;
    button.textContent = chosen ? "Digest of the " + chosen + " chosen report" + (chosen === 1 ? "" : "s") : "Digest of the chosen reports";
  }
  if (all) {
    all.addEventListener("change", function () {
      boxes().forEach(function (b) { b.checked = all.checked; });
      update();
    });
  }
  form.addEventListener("change", update);
  form.addEventListener("submit", function (event) {
    if (event.submitter === remove) {
      var chosen = boxes().filter(function (b) { return b.checked; }).length;
      if (!window.confirm("Remove " + chosen + " report" + (chosen === 1 ? "" : "s") + " from the library?")) {
        event.preventDefault();
      }
      return;
    }
    document.getElementById("status").textContent = "writing the digest…";
    button.disabled = true;
  });
  update();
})();
