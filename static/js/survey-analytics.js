// The NPS-by-month chart of the survey analytics page, with the target line (a file, not an
// inline script: the Content-Security-Policy runs scripts from this site only).
(function () {
  "use strict";
  const canvas = document.getElementById("chart-trend");
  const source = document.getElementById("chart-data");
  if (!canvas || !source || typeof Chart === "undefined") {
    return;
  }
  const data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.months,
      datasets: [
        {label: canvas.dataset.nps, data: data.nps, spanGaps: false, tension: 0.2},
        {label: canvas.dataset.csat, data: data.csat, spanGaps: false, tension: 0.2, hidden: true},
        {
          label: canvas.dataset.target,
          data: data.months.map(function () { return data.target; }),
          borderDash: [6, 4],
          pointRadius: 0,
        },
      ],
    },
    options: {
      locale: document.documentElement.lang,
      scales: {y: {suggestedMin: -100, suggestedMax: 100}},
    },
  });
})();
