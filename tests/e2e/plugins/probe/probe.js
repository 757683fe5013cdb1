// Test-only: records the context, live events and the outcome of reaching for the host page into
// body[data-state] (JSON), where the browser test reads it.
"use strict";

var fs = window.flowscope;
var state = { contexts: 0, live: 0 };
var started = false;

function show() {
  document.body.setAttribute("data-state", JSON.stringify(state));
  document.getElementById("out").textContent = state.slot + " " + state.pathspec + " live=" + state.live;
}

function attempt(fn) {
  try { return "read:" + fn(); } catch (e) { return "blocked:" + e.name; }
}

fs.ready(function (ctx) {
  state.contexts += 1;
  state.slot = ctx.slot;
  state.pathspec = ctx.pathspec;
  state.resource = ctx.resource;
  state.theme = ctx.theme;
  state.runStatus = ctx.run ? ctx.run.status : null;
  state.taskStatus = ctx.task ? ctx.task.status : null;
  if (!started) {
    started = true;
    state.parentDom = attempt(function () { return parent.document.title; });
    state.parentCookie = attempt(function () { return parent.document.cookie; });
    state.cookie = attempt(function () { return document.cookie; });
    fetch("/api/runs").then(function () { state.fetch = "allowed"; }, function () { state.fetch = "blocked"; }).then(show);
    fs.subscribe(ctx.resource || "/api/runs", function (event) {
      state.live += 1;
      state.lastEvent = { type: event.type, status: event.data.status || null, pathspec: event.data.pathspec || null };
      show();
    });
    fs.get((ctx.resource || "/api/runs") + (ctx.resource ? "" : "?limit=1")).then(function (body) {
      state.got = body.data ? (Array.isArray(body.data) ? "list" : body.data.pathspec) : null;
      show();
    });
    fs.setHeight(ctx.slot === "run-tab" ? 321 : 123);
    if (ctx.slot === "run-tab") {
      fs.notify("probe says hello");
      fs.navigate("https://evil.example/");   // the host must refuse this
    }
  }
  show();
});
