// The report page: a fact leads to its passage, a passage to its fact, a citation to both.
(function () {
  "use strict";
  var article = document.getElementById("article");
  function marks(id) {
    return document.querySelectorAll('mark[data-facts~="' + CSS.escape(id) + '"]');
  }
  function flash(elements) {
    elements.forEach(function (el) {
      el.classList.remove("flash");
      void el.offsetWidth; // restart the animation
      el.classList.add("flash");
    });
  }
  function select(id) {
    document.querySelectorAll(".active").forEach(function (el) { el.classList.remove("active"); });
    var found = Array.prototype.slice.call(marks(id));
    var item = document.getElementById("fact-" + id);
    found.forEach(function (el) { el.classList.add("active"); });
    if (item) { item.classList.add("active"); }
    return { marks: found, item: item };
  }
  function showPassage(id) {
    var chosen = select(id);
    if (chosen.marks.length) {
      chosen.marks[0].scrollIntoView({ block: "center" });
      flash(chosen.marks);
    }
    if (chosen.item) { flash([chosen.item]); }
  }
  function showFact(id) {
    var chosen = select(id);
    if (chosen.item) {
      chosen.item.scrollIntoView({ block: "center" });
      flash([chosen.item]);
    }
    flash(chosen.marks);
  }
  document.querySelectorAll("li.fact").forEach(function (item) {
    var id = item.getAttribute("data-fact");
    item.addEventListener("click", function (event) {
      if (event.target.closest("a")) { return; }
      showPassage(id);
    });
    item.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { showPassage(id); }
    });
    item.addEventListener("mouseenter", function () {
      marks(id).forEach(function (el) { el.classList.add("hover"); });
    });
    item.addEventListener("mouseleave", function () {
      marks(id).forEach(function (el) { el.classList.remove("hover"); });
    });
  });
  if (article) {
    article.addEventListener("click", function (event) {
      var mark = event.target.closest("mark");
      if (mark) { showFact(mark.getAttribute("data-facts").split(" ")[0]); }
    });
    article.addEventListener("mouseover", function (event) {
      var mark = event.target.closest("mark");
      document.querySelectorAll("li.fact.hover").forEach(function (el) { el.classList.remove("hover"); });
      if (!mark) { return; }
      mark.getAttribute("data-facts").split(" ").forEach(function (id) {
        var item = document.getElementById("fact-" + id);
        if (item) { item.classList.add("hover"); }
      });
    });
  }
  document.querySelectorAll("a.cite").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var id = link.getAttribute("data-cite");
      showFact(id);
      var found = marks(id);
      if (found.length) { found[0].scrollIntoView({ block: "center" }); }
    });
  });
  document.querySelectorAll("a[data-who-link]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById("p-" + link.getAttribute("data-who-link"));
      if (!target) { return; }
      event.preventDefault();
      var id = link.getAttribute("data-who-link");
      var spans = document.querySelectorAll('[data-who~="' + CSS.escape(id) + '"]');
      if (spans.length) { spans[0].scrollIntoView({ block: "center" }); flash(Array.prototype.slice.call(spans)); }
    });
  });
})();
