  // Sorts a table's rows by the clicked header (data-sort="num" by value, "text" in Chinese
  // collation; "—" and other non-numbers last), again for the other order. Without scripts
  // the tables keep their printed order.
  Array.prototype.forEach.call(document.querySelectorAll("th[data-sort]"), function (th) {
    th.addEventListener("click", function () {
      var body = th.closest("table").tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var numeric = th.getAttribute("data-sort") === "num";
      var dir = th.getAttribute("data-dir") === "asc" ? -1 : 1;
      th.setAttribute("data-dir", dir > 0 ? "asc" : "desc");
      var at = th.cellIndex;
      rows.sort(function (a, b) {
        var x = a.cells[at].textContent.trim(), y = b.cells[at].textContent.trim();
        if (numeric) {
          var p = parseFloat(x), q = parseFloat(y);
          p = isNaN(p) ? -Infinity : p; q = isNaN(q) ? -Infinity : q;
          return (p - q) * dir;
        }
        return x.localeCompare(y, "zh") * dir;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
