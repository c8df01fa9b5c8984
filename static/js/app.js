// Progressive enhancement for the merchant pages: every page works without this file.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";
  document.documentElement.classList.add("js");

  // The language menu submits itself when changed (a button does it without script).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // Approval queue: running totals against the budgets as quantities are edited, before saving.
  var money = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  function groupTotal(group) {
    var total = 0;
    group.querySelectorAll("input[data-unit-cost]").forEach(function (input) {
      var quantity = parseInt(input.value, 10);
      if (!isNaN(quantity) && quantity > 0) { total += quantity * parseFloat(input.dataset.unitCost); }
    });
    return total;
  }
  function refreshTotals() {
    var overall = 0;
    document.querySelectorAll("[data-group]").forEach(function (group) {
      var total = groupTotal(group);
      if (group.dataset.draft === "1") { overall += total; }
      var out = group.querySelector("[data-group-total]");
      if (out) { out.textContent = money.format(total); }
      var budget = parseFloat(group.dataset.budget);
      group.classList.toggle("over-budget", !isNaN(budget) && total > budget);
    });
    var all = document.querySelector("[data-queue-total]");
    if (all) {
      all.textContent = money.format(overall);
      var budget = parseFloat(all.dataset.budget);
      all.closest(".budget").classList.toggle("over-budget", !isNaN(budget) && overall > budget);
    }
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("input[data-unit-cost]")) { refreshTotals(); }
  });

  // Details of a queue line: the replay is fetched the first time the line is opened.
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.matches || !details.matches("details[data-replay-url]") || !details.open || details.dataset.loaded) { return; }
    details.dataset.loaded = "1";
    var slot = details.querySelector("[data-replay-slot]");
    fetch(details.dataset.replayUrl, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) { slot.innerHTML = html; })
      .catch(function () { slot.textContent = slot.dataset.failed || ""; });
  }, true);

  // A running job refreshes its own box every few seconds until it has finished.
  function poll(element) {
    window.setTimeout(function () {
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(element.id);
          if (!fresh) { return; }
          element.replaceWith(fresh);
          if (fresh.hasAttribute("data-poll")) { poll(fresh); }
        });
    }, 3000);
  }
  document.querySelectorAll("[data-poll][id]").forEach(poll);
})();
