// Flowscope plugin SDK, protocol 1: a panel's side of the postMessage conversation with the host.
// Plain script (no modules, no build step); it defines window.flowscope. Types: flowscope-plugin.d.ts.
// The panel runs in a sandboxed iframe with an opaque origin, so it cannot fetch the API or read
// the host's page: every capability here is a request the host may check and refuse.
(function () {
  "use strict";
  var host = window.parent;
  var nextId = 1;
  var pending = {};
  var subs = {};
  var context = null;
  var contextListeners = [];
  var contextWaiters = [];

  function send(msg) {
    msg.flowscope = 1;
    // The host's origin is not knowable from inside an opaque-origin sandbox; the host checks
    // that messages come from this iframe's window, and sends nothing secret back.
    host.postMessage(msg, "*");
  }

  window.addEventListener("message", function (e) {
    if (e.source !== host) return;
    var msg = e.data;
    if (!msg || msg.flowscope !== 1) return;
    if (msg.type === "context") {
      context = msg.context;
      contextWaiters.splice(0).forEach(function (resolve) { resolve(context); });
      contextListeners.forEach(function (fn) { fn(context); });
    } else if (msg.type === "live" && subs[msg.id]) {
      subs[msg.id](msg.event);
    } else if (msg.type === "response" && pending[msg.id]) {
      var p = pending[msg.id];
      delete pending[msg.id];
      if (msg.error) p.reject(new Error(msg.error)); else p.resolve(msg.data);
    }
  });

  var lastHeight = -1;
  function setHeight(px) {
    px = Math.ceil(px);
    if (px === lastHeight) return;
    lastHeight = px;
    send({ type: "height", height: px });
  }

  window.flowscope = {
    ready: function (onContext) {
      if (onContext) contextListeners.push(onContext);
      var promise = new Promise(function (resolve) {
        if (context) resolve(context); else contextWaiters.push(resolve);
      });
      if (context && onContext) onContext(context);
      send({ type: "ready" });
      return promise;
    },
    subscribe: function (resource, handler) {
      var id = "sub" + nextId++;
      subs[id] = handler;
      send({ type: "subscribe", id: id, resource: resource });
      return function () {
        delete subs[id];
        send({ type: "unsubscribe", id: id });
      };
    },
    get: function (path) {
      var id = "req" + nextId++;
      return new Promise(function (resolve, reject) {
        pending[id] = { resolve: resolve, reject: reject };
        send({ type: "get", id: id, path: path });
      });
    },
    setHeight: setHeight,
    autoHeight: function () {
      // The body's extent, not documentElement.scrollHeight: that never drops below the iframe's
      // current height, so a panel could grow but never shrink.
      var measure = function () {
        var body = document.body;
        setHeight(body.getBoundingClientRect().bottom + parseFloat(getComputedStyle(body).marginBottom || "0"));
      };
      new ResizeObserver(measure).observe(document.body);
      measure();
    },
    notify: function (message, level) {
      send({ type: "notify", message: String(message), level: level === "error" ? "error" : "info" });
    },
    navigate: function (path) {
      send({ type: "navigate", path: String(path) });
    },
  };
})();
