// The interactivity of report.html: analysis/report/page.py embeds this script after plotly.js (packed: PLOTLY)
// and REPORT (the data).
// REPORT.groups[g]: {n, m, weights: {W: flat (models, m, n), b: flat (models, n)} or null, seeds: [seed per model],
//   (W and b arrive as base64 float32) phase: [{id, figure, cells: [{best, optimum, seeds: [[seed, phase code, loss, model], ...]}]}], dims: {id, figure} or null}
"use strict";

function float32(base64) {  // analysis/report.py _float32
  return new Float32Array(Uint8Array.from(atob(base64), c => c.charCodeAt(0)).buffer);
}
for (const group of REPORT.groups) {
  if (group.weights) group.weights = { W: float32(group.weights.W), b: float32(group.weights.b) };
}

const DIVERGING = [[0, "rgb(33,102,172)"], [0.5, "rgb(247,247,247)"], [1, "rgb(178,24,43)"]];  // -1 blue, +1 red

function fmt(x, digits = 4) {
  return x === null || x === undefined ? "n/a" : Number(x).toPrecision(digits);
}

// One model: its columns W_i in the plane (m <= 2), W^T W and b (diverging scale on [-1, 1]).
function drawModel(div, group, k, heading) {
  if (!group.weights) {
    Plotly.purge(div);
    div.textContent = "Weights not embedded: too many models for one page (analysis/report.py MAX_WEIGHTS).";
    return;
  }
  const { n, m } = group, W = group.weights.W, b = group.weights.b.slice(k * n, (k + 1) * n);
  const w = (r, i) => W[(k * m + r) * n + i];
  const features = [...Array(n).keys()];
  const gram = features.map(i => features.map(j => {
    let s = 0;
    for (let r = 0; r < m; r++) s += w(r, i) * w(r, j);
    return s;
  }));
  const heat = { type: "heatmap", zmin: -1, zmax: 1, colorscale: DIVERGING, xgap: 1, ygap: 1 };
  const traces = [], layout = {
    title: { text: heading, font: { size: 12 } }, height: 300, showlegend: false,
    margin: { t: 40, l: 45, r: 10, b: 40 }, font: { size: 10 },
  };
  let left = 0;
  if (m <= 2) {
    let lim = 0.5;
    features.forEach(i => {
      const x = w(0, i), y = m === 2 ? w(1, i) : 0;
      lim = Math.max(lim, 1.15 * Math.abs(x), 1.15 * Math.abs(y));
      traces.push({
        type: "scatter", mode: "lines+markers+text", x: [0, x], y: [0, y], text: ["", String(i)],
        textposition: "top center", marker: { size: [0, 7] }, line: { width: 2 }, xaxis: "x", yaxis: "y",
        hovertemplate: `feature ${i}: W_i = (${fmt(x, 3)}, ${fmt(y, 3)}), ||W_i|| = ${fmt(Math.hypot(x, y), 3)}<extra></extra>`,
      });
    });
    layout.xaxis = { domain: [0, 0.42], range: [-lim, lim], title: { text: "hidden dimension 0" } };
    layout.yaxis = { range: [-lim, lim], scaleanchor: "x", title: { text: m === 2 ? "hidden dimension 1" : "" } };
    left = 0.52;
  }
  const [gx, gy, bx, by] = left ? ["x2", "y2", "x3", "y3"] : ["x", "y", "x2", "y2"];
  traces.push({ ...heat, z: gram, xaxis: gx, yaxis: gy, showscale: false,
                hovertemplate: "(W^T W)[%{y}, %{x}] = %{z:.3f}<extra></extra>" });
  traces.push({ ...heat, z: Array.from(b, v => [v]), x: ["b"], xaxis: bx, yaxis: by, showscale: true,
                texttemplate: n <= 12 ? "%{z:.2f}" : "", colorbar: { len: 0.8, thickness: 10, x: 0.9, xanchor: "left" },
                hovertemplate: "b[%{y}] = %{z:.3f}<extra></extra>" });
  const axis = (domain, text) => ({ domain, title: { text }, tickmode: "linear", dtick: Math.max(1, Math.ceil(n / 10)) });
  layout[left ? "xaxis2" : "xaxis"] = axis([left, left + (0.9 - left) * 0.72], "W^T W (feature)");
  layout[left ? "yaxis2" : "yaxis"] = { ...axis([0, 1], "feature"), anchor: gx, autorange: "reversed" };
  layout[left ? "xaxis3" : "xaxis2"] = { domain: [left + (0.9 - left) * 0.76, 0.88], title: { text: "bias" } };
  layout[left ? "yaxis3" : "yaxis2"] = { ...axis([0, 1], ""), anchor: bx, autorange: "reversed", showticklabels: false };
  Plotly.react(div, traces, layout, { ...REPORT.config, displayModeBar: false });
}

// A clicked phase cell: its seeds (best first), and the model of the seed clicked in that list (the best at first).
function showCell(group, phase, point) {
  const custom = point.customdata, cell = phase.cells[custom[custom.length - 1]];
  const side = document.getElementById(phase.id + "-side");
  const rows = cell.seeds.map(([seed, code, loss, model]) => {
    const gap = cell.optimum ? `${((loss / cell.optimum - 1) * 100).toFixed(2)}%` : "n/a";
    return `<tr class="seed" data-model="${model}"><td>${seed}${model === cell.best ? " (best)" : ""}</td>` +
      `<td style="text-align:left">${REPORT.phases[code]}</td><td>${fmt(loss, 6)}</td><td>${gap}</td></tr>`;
  });
  side.innerHTML = `<b>density ${fmt(custom[0])}, relative importance ${fmt(custom[1])}</b>` +
    `<table><tr><th>seed</th><th>phase</th><th>loss</th><th>above optimum</th></tr>${rows.join("")}</table>` +
    `<div class="model"></div>`;
  const modelDiv = side.querySelector(".model");
  const show = model => {
    side.querySelectorAll("tr.seed").forEach(tr => tr.classList.toggle("shown", Number(tr.dataset.model) === model));
    drawModel(modelDiv, group, model, `seed ${group.seeds[model]}${model === cell.best ? " (best)" : ""}`);
  };
  side.querySelectorAll("tr.seed").forEach(tr => tr.addEventListener("click", () => show(Number(tr.dataset.model))));
  show(cell.best);
}

PLOTLY.then(() => {  // plotly.js unpacked and run (report/page.py UNPACK)
  for (const group of REPORT.groups) {
    for (const phase of group.phase) {
      const div = document.getElementById(phase.id);
      Plotly.newPlot(div, phase.figure.data, phase.figure.layout, REPORT.config)
        .then(() => div.on("plotly_click", event => showCell(group, phase, event.points[0])));
    }
    if (group.dims) {
      const div = document.getElementById(group.dims.id), side = document.getElementById(group.dims.id + "-side");
      Plotly.newPlot(div, group.dims.figure.data, group.dims.figure.layout, REPORT.config).then(() => {
        div.on("plotly_hover", event => {
          const point = event.points[0];
          if (!point.customdata) return;  // the aggregate lines
          const model = side.querySelector(".model") || side.appendChild(Object.assign(document.createElement("div"), { className: "model" }));
          drawModel(model, group, point.customdata[0],
                    `seed ${point.customdata[1]}, density ${fmt(point.customdata[2])}: dims per feature ${fmt(point.y)}`);
        });
      });
    }
  }
});
