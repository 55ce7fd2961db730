// The served page: send the article, show each stage as the server reports it, then open the
// report. Everything shown comes in as text (textContent), never as markup.
(function () {
  "use strict";
  var form = document.getElementById("ask");
  var status = document.getElementById("status");
  var button = document.getElementById("go");
  function show(text, failed) {
    status.textContent = text;
    status.classList.toggle("failed", !!failed);
  }
  function recent() {
    fetch("/v1/reports").then(function (r) { return r.json(); }).then(function (data) {
      var list = document.getElementById("recent");
      list.replaceChildren();
      data.reports.forEach(function (job) {
        var item = document.createElement("li");
        if (job.status === "done") {
          var link = document.createElement("a");
          link.href = "/reports/" + encodeURIComponent(job.id);
          link.textContent = job.title || job.source;
          item.appendChild(link);
        } else {
          item.textContent = (job.title || job.source) + " — " + (job.error || job.stage);
        }
        var note = document.createElement("span");
        note.className = "note";
        note.textContent = " " + job.source + (job.seconds ? " · " + Math.round(job.seconds) + " s" : "");
        item.appendChild(note);
        list.appendChild(item);
      });
    }).catch(function () {});
  }
  function poll(id, started) {
    fetch("/v1/reports/" + encodeURIComponent(id)).then(function (r) {
      return r.json().then(function (body) { return { code: r.status, body: body }; });
    }).then(function (answer) {
      var seconds = Math.round((Date.now() - started) / 1000);
      if (answer.code === 202) {
        show(answer.body.stage + " · " + seconds + " s");
        setTimeout(function () { poll(id, started); }, 500);
      } else if (answer.code === 200) {
        show("done in " + seconds + " s");
        window.location.href = "/reports/" + encodeURIComponent(id);
      } else {
        show(answer.body.error || "failed", true);
        button.disabled = false;
        recent();
      }
    }).catch(function () { show("the server stopped answering", true); button.disabled = false; });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(form);
    var file = document.getElementById("file").files[0];
    if (!file) { data.delete("file"); }
    if (!data.get("text")) { data.delete("text"); }
    if (!data.get("url")) { data.delete("url"); }
    if (!data.get("language")) { data.delete("language"); }
    button.disabled = true;
    show("sending");
    fetch("/v1/reports?wait=false", { method: "POST", body: data }).then(function (r) {
      return r.json().then(function (body) { return { code: r.status, body: body, retry: r.headers.get("Retry-After") }; });
    }).then(function (answer) {
      if (answer.code === 202) {
        poll(answer.body.id, Date.now());
        recent();
      } else {
        var wait = answer.retry ? " (try again in " + answer.retry + " s)" : "";
        show((answer.body.error || "refused") + wait, true);
        button.disabled = false;
      }
    }).catch(function () { show("the server stopped answering", true); button.disabled = false; });
  });
  recent();
})();
