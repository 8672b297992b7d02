// The dashboard's charts (a file, not an inline script: the Content-Security-Policy runs scripts
// from this site only). Each point opens the list behind it.
(function () {
  "use strict";
  const print = document.getElementById("dashboard-print");
  if (print) {
    print.addEventListener("click", function () { window.print(); });
  }
  const source = document.getElementById("dashboard-charts");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  const charts = JSON.parse(source.textContent);
  Object.keys(charts).forEach(function (key) {
    const canvas = document.getElementById("chart-" + key);
    const data = charts[key];
    if (!canvas) {
      return;
    }
    const datasets = [{label: data.label, data: data.values, tension: 0.2, spanGaps: false}];
    if (data.target !== null) {
      datasets.push({
        label: data.targetLabel,
        data: data.values.map(function () { return data.target; }),
        type: "line",
        borderDash: [6, 4],
        pointRadius: 0,
      });
    }
    new Chart(canvas, {
      type: data.type,
      data: {labels: data.labels, datasets: datasets},
      options: {
        locale: document.documentElement.lang,
        maintainAspectRatio: false,
        plugins: {legend: {display: data.target !== null}},
        onClick: function (event, elements) {
          if (elements.length && data.urls[elements[0].index]) {
            window.location.href = data.urls[elements[0].index];
          }
        },
      },
    });
  });
})();
