// dicetest report.html: filter the case table and the exchanges by verdict and text.
// Works on the page's own elements only; nothing is fetched.
(function () {
  "use strict";
  var boxes = Array.prototype.slice.call(document.querySelectorAll(".filters input[data-verdict]"));
  var onlyUnexpected = document.getElementById("only-unexpected");
  var search = document.getElementById("search");
  var shown = document.getElementById("shown");
  var rows = Array.prototype.slice.call(document.querySelectorAll("table.cases tbody tr"));
  var articles = Array.prototype.slice.call(document.querySelectorAll("article.case"));

  function wanted() {
    var set = {};
    boxes.forEach(function (b) { if (b.checked) { set[b.getAttribute("data-verdict")] = true; } });
    return set;
  }

  function apply() {
    var set = wanted();
    var q = search ? search.value.trim().toLowerCase() : "";
    var unexpected = onlyUnexpected ? onlyUnexpected.checked : false;
    var count = 0;
    rows.forEach(function (r, i) {
      var ok = set[r.getAttribute("data-verdict")] === true &&
        (!unexpected || r.getAttribute("data-unexpected") === "true") &&
        (q === "" || (r.getAttribute("data-text") || "").indexOf(q) !== -1);
      r.classList.toggle("hidden", !ok);
      if (articles[i]) { articles[i].classList.toggle("hidden", !ok); }
      if (ok) { count += 1; }
    });
    if (shown) { shown.textContent = count + " of " + rows.length + " shown"; }
  }

  boxes.forEach(function (b) { b.addEventListener("change", apply); });
  if (onlyUnexpected) { onlyUnexpected.addEventListener("change", apply); }
  if (search) { search.addEventListener("input", apply); }

  function setAll(open) {
    document.querySelectorAll("details.chart, details.trace").forEach(function (d) { d.open = open; });
  }
  var expand = document.getElementById("expand");
  var collapse = document.getElementById("collapse");
  if (expand) { expand.addEventListener("click", function () { setAll(true); }); }
  if (collapse) { collapse.addEventListener("click", function () { setAll(false); }); }

  // Following a link to a case opens its chart.
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id ? document.getElementById(id) : null;
    if (el && el.tagName === "ARTICLE") {
      el.classList.remove("hidden");
      var d = el.querySelector("details.chart");
      if (d) { d.open = true; }
    }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  apply();
})();
