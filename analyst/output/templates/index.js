// The batch index: click a column heading to sort by it (again to reverse).
(function () {
  "use strict";
  var table = document.getElementById("index");
  var body = table.tBodies[0];
  table.querySelectorAll("th[data-sort]").forEach(function (th, column) {
    th.addEventListener("click", function () {
      var numeric = th.getAttribute("data-sort") === "number";
      var up = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      function key(row) {
        var cell = row.cells[column];
        var text = cell.getAttribute("data-value") || cell.textContent.trim();
        if (!numeric) { return text.toLowerCase(); }
        var n = parseFloat(text);
        return isNaN(n) ? -Infinity : n;
      }
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
})();
