// Draws the dashboards' plotly figures from the JSON the server rendered beside each chart
// (<div data-chart="ID"> + <script type="application/json" id="ID">), and follows a click on
// a bar to the conversations behind it (each point's customdata is that list's address).
// No inline script anywhere: the Content-Security-Policy forbids it.
(function () {
  "use strict";

  function draw(root) {
    if (!window.Plotly) return;
    var charts = (root || document).querySelectorAll("[data-chart]");
    Array.prototype.forEach.call(charts, function (el) {
      if (el.getAttribute("data-drawn")) return;
      var spec = document.getElementById(el.getAttribute("data-chart"));
      if (!spec) return;
      var fig = JSON.parse(spec.textContent);
      el.setAttribute("data-drawn", "1");
      window.Plotly.newPlot(el, fig.data, fig.layout, { displayModeBar: false, responsive: true }).then(
        function () {
          el.on("plotly_click", function (event) {
            var point = event.points && event.points[0];
            if (point && typeof point.customdata === "string") window.location.assign(point.customdata);
          });
          el.setAttribute("data-ready", "1");
        }
      );
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();
