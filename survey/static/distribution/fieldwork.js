// Draws the fieldwork curve from the page's JSON data block (no inline script: see the CSP).
document.addEventListener("DOMContentLoaded", function () {
  var data = document.getElementById("fieldwork-figure");
  var chart = document.getElementById("fieldwork-chart");
  if (!data || !chart || typeof Plotly === "undefined") { return; }
  var figure = JSON.parse(data.textContent);
  Plotly.newPlot(chart, figure.data, figure.layout, {responsive: true, displaylogo: false});
});
