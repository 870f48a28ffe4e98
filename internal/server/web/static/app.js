// trailalarm dashboard: small progressive enhancements; every page works without them.
(function () {
  "use strict";
  // "expand all" for the evidence records' raw JSON.
  document.querySelectorAll("button.toggle-all").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var all = document.querySelectorAll(".evidence details");
      var open = b.textContent === "expand all";
      all.forEach(function (d) { d.open = open; });
      b.textContent = open ? "collapse all" : "expand all";
    });
  });
  // The tester: pretty-print the pasted record.
  document.querySelectorAll("button.format-json").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var ta = b.form.querySelector("textarea[name=event]");
      try { ta.value = JSON.stringify(JSON.parse(ta.value), null, 2); } catch (e) { /* not JSON: leave it */ }
    });
  });
})();
