/* The offline copy (dangxiao offline) only: browsers refuse `new Worker(...)` on a page
   opened from file://, so Material's search worker runs in a hidden frame of the page
   instead. Material's search worker knows this mode by window.IFrameWorker (it then finds
   its lunr files beside its own script tag). Material's offline plugin loads the same idea
   (iframe-worker) from a public CDN; the offline copy may not load anything from any host,
   hence this small version. */
(function () {
  "use strict";
  if (location.protocol !== "file:") { return; }

  function IFrameWorker(url) {
    var worker = this, listeners = [], waiting = [], ready = false;
    var base = new URL(String(url), location.href);
    var frame = document.createElement("iframe");
    frame.hidden = true;
    frame.tabIndex = -1;
    frame.setAttribute("aria-hidden", "true");
    frame.title = "搜索";
    (document.body || document.documentElement).appendChild(frame);
    var inner = frame.contentWindow, doc = frame.contentDocument;

    function load(src) {
      return new Promise(function (resolve, reject) {
        var script = doc.createElement("script");
        script.src = src;
        script.onload = function () { resolve(); };
        script.onerror = function () { reject(new Error("cannot load " + src)); };
        doc.head.appendChild(script);
      });
    }
    function deliver(data) {
      var event = new MessageEvent("message", { data: data });
      if (typeof worker.onmessage === "function") { worker.onmessage(event); }
      listeners.slice().forEach(function (listener) { listener.call(worker, event); });
    }
    function post(data) {
      inner.dispatchEvent(new inner.MessageEvent("message", { data: data }));
    }
    // A worker's importScripts loads one script after another; here it returns a promise,
    // which Material's worker awaits.
    inner.importScripts = function () {
      return Array.prototype.reduce.call(arguments, function (done, src) {
        return done.then(function () { return load(new URL(src, base).href); });
      }, Promise.resolve());
    };
    inner.postMessage = function (data) { setTimeout(function () { deliver(data); }, 0); };

    this.onmessage = null;
    this.onerror = null;
    this.postMessage = function (data) {
      if (ready) { post(data); } else { waiting.push(data); }
    };
    this.addEventListener = function (type, listener) {
      if (type === "message" && typeof listener === "function") { listeners.push(listener); }
    };
    this.removeEventListener = function (type, listener) {
      listeners = listeners.filter(function (l) { return l !== listener; });
    };
    this.terminate = function () { frame.remove(); };
    load(base.href).then(function () {
      ready = true;
      waiting.splice(0).forEach(post);
    }, function (error) {
      if (typeof worker.onerror === "function") { worker.onerror(error); }
    });
  }

  window.IFrameWorker = IFrameWorker;
  window.Worker = IFrameWorker;
})();
