// Click a header of a table.sortable to sort its rows; numbers sort numerically (data-sort wins over text).
"use strict";
(function () {
  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
  }
  function sortTable(table, index, numeric, descending) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index), y = cellValue(b, index);
      var order;
      if (numeric) {
        order = (parseFloat(x) || 0) - (parseFloat(y) || 0);
      } else {
        order = x.localeCompare(y, "zh-CN");
      }
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      var headers = table.tHead ? table.tHead.rows[table.tHead.rows.length - 1].cells : [];  // under any group row
      Array.prototype.forEach.call(headers, function (th, index) {
        th.addEventListener("click", function () {
          var descending = th.classList.contains("sorted-asc");
          Array.prototype.forEach.call(headers, function (h) { h.classList.remove("sorted-asc", "sorted-desc"); });
          th.classList.add(descending ? "sorted-desc" : "sorted-asc");
          sortTable(table, index, th.getAttribute("data-type") === "number", descending);
        });
      });
    });
  });
})();

// The region tree: typing filters it (a match shows its ancestors and unfolds them); choosing a parent ticks and
// locks every region below it (locked boxes are disabled, so only the parent is sent: the server includes its
// children whether or not this script runs).
(function () {
  function boxesBelow(box) {
    var li = box.closest("li.region-node");
    // ":scope": a bare "ul input" would also match the box itself, through the <ul> its own node sits in
    return li ? Array.prototype.slice.call(li.querySelectorAll(":scope > details > ul input[type=checkbox]")) : [];
  }
  function applyParent(box) {
    boxesBelow(box).forEach(function (child) {
      child.checked = box.checked;
      child.disabled = box.checked;
    });
  }
  // data-names holds a node's names and its ancestors', so typing a province shows everything in it.
  function filterTree(tree, query) {
    var any = false;
    function visit(li) {
      var own = query === "" || (li.getAttribute("data-names") || "").indexOf(query) >= 0;
      var below = false;
      li.querySelectorAll(":scope > details > ul > li.region-node").forEach(function (child) {
        if (visit(child)) below = true;
      });
      var shown = own || below;
      li.hidden = !shown;
      var details = li.querySelector(":scope > details");
      if (details && query !== "") details.open = below;
      if (shown) any = true;
      return shown;
    }
    tree.querySelectorAll(":scope > li.region-node").forEach(visit);
    return any;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var tree = document.getElementById("region-tree");
    if (!tree) return;
    var boxes = tree.querySelectorAll("input[type=checkbox]");
    boxes.forEach(function (box) {
      if (box.checked) applyParent(box);
      box.addEventListener("change", function () { applyParent(box); });
    });
    var search = document.getElementById("region-search");
    var none = document.getElementById("region-none");
    if (search) {
      search.addEventListener("input", function () {
        var any = filterTree(tree, search.value.trim());
        if (none) none.hidden = any;
      });
      search.addEventListener("keydown", function (e) {
        if (e.key === "Enter") e.preventDefault();  // Enter filters the tree; it does not submit the search
      });
    }
  });
})();
