// Draws the fieldwork curve from the page's JSON data block (no inline script: see the CSP).
document.addEventListener("DOMContentLoaded", function () {
  var data = document.getElementById("fieldwork-figure");
  var chart = document.getElementById("fieldwork-chart");
  if (!data || !chart || typeof Plotly === "undefined") { return; }
  var figure = JSON.parse(data.textContent);
  // Static: the container is one image to assistive technologies (role="img"), so it must
  // hold no controls (axe-core: nested-interactive); the table below carries the figures.
  Plotly.newPlot(chart, figure.data, figure.layout, {responsive: true, staticPlot: true});
});
