/*
 * The dashboard's charts (templates/requests_app/dashboard.html). The figures
 * come from the "dashboard-data" JSON element (json_script): the page's CSP
 * allows no inline code. Each <canvas data-chart="key" data-chart-kind="bar">
 * draws one series; colours are Bootstrap's, read from its CSS variables, so
 * statuses and priorities match their badges and a tenant's brand colour
 * reaches the bars.
 */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var styles = window.getComputedStyle(document.documentElement);

  function cssColour(name, fallback) {
    var value = styles.getPropertyValue(name).trim();
    return value || fallback;
  }

  // "light" badges have a border; as a slice they need a visible grey instead.
  var toneVariables = { light: "--bs-gray-400" };
  var palette = ["--bs-primary", "--bs-teal", "--bs-orange", "--bs-indigo", "--bs-pink", "--bs-cyan", "--bs-gray-600"];

  function colours(series) {
    return series.values.map(function (_value, index) {
      if (series.tones) {
        var tone = series.tones[index];
        return cssColour(toneVariables[tone] || "--bs-" + tone, "#6c757d");
      }
      return cssColour(palette[index % palette.length], "#0d6efd");
    });
  }

  Chart.defaults.font.family = styles.getPropertyValue("--bs-body-font-family").trim() || Chart.defaults.font.family;
  Chart.defaults.color = cssColour("--bs-secondary-color", "#6c757d");

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var series = data[canvas.dataset.chart];
    if (!series) {
      return;
    }
    var kind = canvas.dataset.chartKind || "bar";
    var round = kind === "doughnut";
    var background = canvas.dataset.chart === "per_month" ? cssColour("--bs-primary", "#0d6efd") : colours(series);
    new Chart(canvas, {
      type: kind,
      data: {
        labels: series.labels,
        datasets: [{ label: "Requests", data: series.values, backgroundColor: background, borderWidth: round ? 1 : 0 }]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: round, position: "bottom" } },
        scales: round ? {} : { y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  });
})();
