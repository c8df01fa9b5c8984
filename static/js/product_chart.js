// The product page's charts, drawn by Chart.js (static/vendor/chartjs) from the JSON the page embeds.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";
  function data(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }
  var labels = data("chart-labels") || {};
  var colors = { sales: "#5b6575", mean: "#1f6feb", band: "rgba(31, 111, 235, 0.18)", manual: "#b35c00", out: "rgba(198, 40, 40, 0.16)" };
  var dateFormat = new Intl.DateTimeFormat(lang, { month: "short", day: "numeric" });
  function dateLabel(iso) { return dateFormat.format(new Date(iso + "T00:00:00")); }

  var series = data("chart-data");
  var canvas = document.getElementById("demand-chart");
  if (series && canvas && window.Chart) {
    var highest = 1;
    series.sales.concat(series.high, series.mean, series.manual).forEach(function (value) {
      if (value !== null && value > highest) { highest = value; }
    });
    var datasets = [
      { type: "bar", label: labels.sales, data: series.sales, backgroundColor: colors.sales, order: 3 },
      { type: "line", label: labels.low, data: series.low, borderWidth: 0, pointRadius: 0, fill: false, order: 2 },
      { type: "line", label: labels.band, data: series.high, borderWidth: 0, pointRadius: 0, fill: "-1", backgroundColor: colors.band, order: 2 },
      { type: "line", label: labels.mean, data: series.mean, borderColor: colors.mean, backgroundColor: colors.mean, pointRadius: 0, borderWidth: 2, order: 1 },
      { type: "bar", label: labels.stockout, data: series.stockout.map(function (out) { return out ? highest : null; }), backgroundColor: colors.out, barPercentage: 1, categoryPercentage: 1, order: 4 }
    ];
    if (series.manual.length) {
      datasets.push({ type: "line", label: labels.manual, data: series.manual, borderColor: colors.manual, borderDash: [6, 4], pointRadius: 0, borderWidth: 2, order: 0 });
    }
    new window.Chart(canvas, {
      data: { labels: series.labels, datasets: datasets },
      options: {
        locale: lang,
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: false, ticks: { maxTicksLimit: 12, callback: function (value) { return dateLabel(this.getLabelForValue(value)); } } },
          y: { beginAtZero: true, title: { display: true, text: labels.units } }
        },
        plugins: {
          legend: { labels: { filter: function (item) { return item.text !== labels.low; } } },
          tooltip: {
            callbacks: {
              title: function (items) { return items.length ? dateLabel(items[0].label) : ""; },
              label: function (item) {
                if (item.dataset.label === labels.stockout) { return labels.stockout; }
                if (item.raw === null) { return null; }
                return item.dataset.label + ": " + new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(item.raw);
              }
            }
          }
        }
      }
    });
  }

  var signals = data("signal-data");
  var signalCanvas = document.getElementById("signal-chart");
  if (signals && signals.labels.length && signalCanvas && window.Chart) {
    var signalSets = [{ type: "bar", label: labels.texts, data: signals.texts, backgroundColor: "#9aa5b8", yAxisID: "count" }];
    var palette = ["#1f6feb", "#c62828", "#2e7d32", "#b35c00", "#6a1b9a", "#00838f"];
    Object.keys(signals.scores).forEach(function (name, index) {
      signalSets.push({ type: "line", label: name, data: signals.scores[name], borderColor: palette[index % palette.length], pointRadius: 2, yAxisID: "score" });
    });
    new window.Chart(signalCanvas, {
      data: { labels: signals.labels, datasets: signalSets },
      options: {
        locale: lang,
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { ticks: { maxTicksLimit: 10, callback: function (value) { return dateLabel(this.getLabelForValue(value)); } } },
          count: { position: "left", beginAtZero: true, title: { display: true, text: labels.texts } },
          score: { position: "right", display: Object.keys(signals.scores).length > 0, grid: { drawOnChartArea: false }, title: { display: true, text: labels.score } }
        }
      }
    });
  }
})();
