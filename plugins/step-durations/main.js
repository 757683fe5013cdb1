// Loads the run's steps and tasks through the host, redraws on every live task event.
"use strict";

(function () {
  var fs = window.flowscope;
  var tasks = {};          // pathspec -> task
  var steps = [];          // step names in graph order
  var redrawQueued = false;

  function rows() {
    var now = Date.now();
    var byStep = {};
    steps.forEach(function (s) { byStep[s] = []; });
    Object.keys(tasks).forEach(function (k) {
      var t = tasks[k];
      var ms = taskDuration(t, now);
      if (ms === null) return;
      (byStep[t.step_name] = byStep[t.step_name] || []).push({ ms: ms, status: t.status });
    });
    return Object.keys(byStep).map(function (s) { return { step: s, durations: byStep[s] }; });
  }

  function redraw() {
    redrawQueued = false;
    var count = Object.keys(tasks).length;
    document.getElementById("status").textContent = count + " tasks in " + steps.length + " steps";
    document.body.setAttribute("data-tasks", String(count));
    drawChart(document.getElementById("chart"), rows());
  }

  function queueRedraw() {
    if (redrawQueued) return;
    redrawQueued = true;
    requestAnimationFrame(redraw);
  }

  async function loadAll(resource) {
    var dag = await fs.get(resource + "/steps");
    steps = dag.data.map(function (s) { return s.step_name; });
    var cursor = null;
    do {
      var page = await fs.get(resource + "/tasks?limit=1000" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
      page.data.forEach(function (t) { tasks[t.pathspec] = t; });
      cursor = page.next;
    } while (cursor);
  }

  var started = false;
  fs.ready(function (ctx) {
    document.body.classList.toggle("dark", ctx.theme === "dark");
    if (started || !ctx.run) return;
    started = true;
    var resource = "/api/flows/" + encodeURIComponent(ctx.run.flow_id) + "/runs/" + encodeURIComponent(ctx.run.run_id);
    fs.autoHeight();
    fs.subscribe(resource + "/tasks", function (event) {
      tasks[event.data.pathspec] = event.data;
      queueRedraw();
    });
    loadAll(resource).then(redraw, function (err) {
      document.getElementById("status").textContent = "Could not load the run: " + err.message;
      fs.notify("step-durations: " + err.message, "error");
    });
  });
  window.addEventListener("resize", queueRedraw);
})();
