// The stock page's inflow and outflow chart (Chart.js, served locally), fed by the JSON the page embeds.
(function () {
  var data = document.getElementById("flows-data");
  var canvas = document.getElementById("flows");
  if (!data || !canvas || typeof Chart === "undefined") return;
  var flows = JSON.parse(data.textContent);
  var names = document.getElementById("flows-labels").dataset;
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: flows.labels.map(function (d) { return d.slice(5); }),
      datasets: [
        {label: names.inflow, data: flows.inflow, backgroundColor: "#4f8a4f"},
        {label: names.outflow, data: flows.outflow, backgroundColor: "#b5651d"},
      ],
    },
    options: {responsive: true, animation: false, scales: {y: {beginAtZero: true, ticks: {precision: 0}}}},
  });
})();
