// The charts of the sales funnel page (a file, not an inline script: the Content-Security-Policy
// runs scripts from this site only). The data comes from the page's json_script.
(function () {
  "use strict";
  const source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  const data = JSON.parse(source.textContent);
  const locale = document.documentElement.lang;

  function bar(id, labels, datasets, options) {
    const canvas = document.getElementById(id);
    if (!canvas) {
      return;
    }
    new Chart(canvas, {
      type: "bar",
      data: {labels: labels, datasets: datasets},
      options: Object.assign({locale: locale}, options || {}),
    });
  }

  const funnel = document.getElementById("chart-funnel");
  if (funnel) {
    bar("chart-funnel", data.stages, [{label: funnel.dataset.label, data: data.reached}], {
      indexAxis: "y",
      plugins: {legend: {display: false}},
      scales: {x: {beginAtZero: true, ticks: {precision: 0}}},
    });
  }
  const days = document.getElementById("chart-days");
  if (days) {
    bar("chart-days", data.stages.slice(0, -1), [{label: days.dataset.label, data: data.days}], {
      plugins: {legend: {display: false}},
      scales: {y: {beginAtZero: true}},
    });
  }
  bar("chart-refusals", data.refusal_stages, data.refusals, {
    scales: {x: {stacked: true}, y: {stacked: true, beginAtZero: true, ticks: {precision: 0}}},
  });
  const forecast = document.getElementById("chart-forecast");
  if (forecast) {
    bar(
      "chart-forecast",
      data.months,
      [
        {label: forecast.dataset.amount, data: data.amount},
        {label: forecast.dataset.weighted, data: data.weighted},
      ],
      {scales: {y: {beginAtZero: true}}},
    );
  }
})();
