// The monitor's page script: draws the charts described by the page's JSON
// blocks, makes chart bars clickable where the page gives links, and keeps the
// page current by fetching it again and swapping <main> when it changed.
(function () {
  "use strict";
  const charts = [];

  function drawCharts(root) {
    for (const canvas of root.querySelectorAll("canvas[data-chart]")) {
      const block = document.getElementById(canvas.dataset.chart);
      if (!block || typeof Chart === "undefined") continue;
      const { config, links } = JSON.parse(block.textContent);
      config.options = config.options || {};
      config.options.animation = false;
      config.options.maintainAspectRatio = false;
      if (links) {
        config.options.onClick = (_event, elements) => {
          const hit = elements[0];
          if (hit && links[hit.index]) location.href = links[hit.index];
        };
        config.options.onHover = (event, elements) => {
          event.native.target.style.cursor = elements.length ? "pointer" : "default";
        };
      }
      charts.push(new Chart(canvas, config));
    }
  }

  function editing() {
    const a = document.activeElement;
    return a && (a.tagName === "INPUT" || a.tagName === "TEXTAREA" || a.tagName === "SELECT") &&
      a.closest("main");
  }

  let last = null;
  async function refresh() {
    if (document.hidden || editing()) return;
    let text;
    try {
      const res = await fetch(location.href, { credentials: "same-origin" });
      if (!res.ok) return;
      text = await res.text();
    } catch {
      return; // the server is away for a moment: try again at the next tick
    }
    if (text === last) return;
    last = text;
    const main = document.getElementById("main");
    const fresh = new DOMParser().parseFromString(text, "text/html").getElementById("main");
    if (!main || !fresh || fresh.innerHTML === main.innerHTML) return;
    while (charts.length) charts.pop().destroy();
    main.replaceChildren(...fresh.childNodes);
    drawCharts(main);
    document.dispatchEvent(new CustomEvent("web:refreshed"));
  }

  document.addEventListener("DOMContentLoaded", () => {
    drawCharts(document);
    const ms = Number(document.body.dataset.refreshMs);
    if (ms > 0) setInterval(refresh, ms);
  });
})();
