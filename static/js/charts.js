// Draws the plotly figures a page carries as JSON data (<script type="application/json">,
// Django's json_script): the Content-Security-Policy runs no inline script.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.Plotly) {
    return;
  }
  document.querySelectorAll("[data-plotly]").forEach(function (element) {
    var source = document.getElementById(element.dataset.plotly);
    if (!source) {
      return;
    }
    var figure = JSON.parse(source.textContent);
    // No mode bar: its styles are injected inline, which the policy blocks.
    window.Plotly.newPlot(element, figure.data, figure.layout, {
      responsive: true,
      displayModeBar: false,
    });
  });
});
