// A minimal panel: wait for the context, show what it is about, keep the iframe as tall as the content.
"use strict";

window.flowscope.ready(function (ctx) {
  document.body.classList.toggle("dark", ctx.theme === "dark");
  var what = ctx.pathspec || "the home page";
  document.getElementById("out").textContent = "Skeleton plugin in slot " + ctx.slot + " for " + what;
  window.flowscope.autoHeight();
});
