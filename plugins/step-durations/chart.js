// Draws one row per step: a line from the shortest to the longest task, a diamond at the median and
// a dot per task (red: failed, amber: still running, using its duration so far). Plain SVG.
"use strict";

var SVG_NS = "http://www.w3.org/2000/svg";

function el(name, attrs, text) {
  var node = document.createElementNS(SVG_NS, name);
  Object.keys(attrs).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
  if (text !== undefined) node.textContent = text;
  return node;
}

function fmt(ms) {
  if (ms < 1000) return Math.round(ms) + " ms";
  if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
  if (ms < 3600000) return (ms / 60000).toFixed(1) + " min";
  return (ms / 3600000).toFixed(1) + " h";
}

function taskDuration(task, now) {
  if (typeof task.duration_ms === "number") return task.duration_ms;
  if (task.started_at && task.finished_at) return task.finished_at - task.started_at;
  if (task.started_at && task.status === "running") return now - task.started_at;
  return null;
}

/** rows: [{step, durations: [{ms, status}]}] in graph order. */
function drawChart(svg, rows) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  var width = svg.clientWidth || 600;
  var labelW = 140, statsW = 230, rowH = 26;
  var plotW = Math.max(80, width - labelW - statsW);
  var max = 1;
  rows.forEach(function (r) { r.durations.forEach(function (d) { max = Math.max(max, d.ms); }); });
  var x = function (ms) { return labelW + (ms / max) * plotW; };
  svg.setAttribute("height", String(rows.length * rowH + 22));
  rows.forEach(function (r, i) {
    var y = i * rowH + 14;
    var g = el("g", { "data-step": r.step });
    g.appendChild(el("text", { x: 0, y: y + 4, "class": "label" }, r.step));
    g.appendChild(el("line", { x1: labelW, x2: labelW + plotW, y1: y, y2: y, "class": "axis" }));
    var ms = r.durations.map(function (d) { return d.ms; }).sort(function (a, b) { return a - b; });
    if (ms.length) {
      var median = ms[Math.floor((ms.length - 1) / 2)];
      g.appendChild(el("line", { x1: x(ms[0]), x2: x(ms[ms.length - 1]), y1: y, y2: y, "class": "range" }));
      r.durations.forEach(function (d) {
        g.appendChild(el("circle", { cx: x(d.ms), cy: y, r: 3.5, "class": "dot " + d.status }));
      });
      var m = x(median);
      g.appendChild(el("path", { d: "M" + m + " " + (y - 5) + "l5 5l-5 5l-5 -5z", "class": "median" }));
      g.appendChild(el("text", { x: labelW + plotW + 10, y: y + 4, "class": "label stats" },
        ms.length + " × · med " + fmt(median) + " · max " + fmt(ms[ms.length - 1])));
    } else {
      g.appendChild(el("text", { x: labelW + 6, y: y + 4, "class": "label muted" }, "no finished tasks yet"));
    }
    svg.appendChild(g);
  });
  svg.appendChild(el("text", { x: labelW + plotW, y: rows.length * rowH + 16, "text-anchor": "end", "class": "label muted" },
    fmt(max)));
}
