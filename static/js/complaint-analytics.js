// The complaints-per-month chart of the complaint analytics page (a file, not an inline
// script: the Content-Security-Policy runs scripts from this site only).
(function () {
  "use strict";
  const canvas = document.getElementById("chart-months");
  const source = document.getElementById("chart-data");
  if (!canvas || !source || typeof Chart === "undefined") {
    return;
  }
  const data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "bar",
    data: {labels: data.months, datasets: [{label: canvas.dataset.label, data: data.counts}]},
    options: {
      locale: document.documentElement.lang,
      plugins: {legend: {display: false}},
      scales: {y: {beginAtZero: true, ticks: {precision: 0}}},
    },
  });
})();
