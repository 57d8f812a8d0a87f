/* Small helpers of a few page kinds, loaded by those pages only (the CSP allows no inline
   script). Everything here is an addition: without it the page still reads and prints. */
(function () {
  "use strict";

  /* 复制: copies the read-only message box beside the button. Without the script the
     button stays hidden and the text is selected by a long press. */
  function copyText(box, done) {
    function fallback() {
      box.focus();
      box.select();
      box.setSelectionRange(0, box.value.length);
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      done(ok);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(box.value).then(function () { done(true); }, fallback);
    } else {
      fallback();
    }
  }
  document.querySelectorAll("button.dx-copy[data-copy]").forEach(function (button) {
    var box = document.getElementById(button.getAttribute("data-copy"));
    if (!box) return;
    var status = button.parentNode.querySelector(".dx-copy-done");
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(box, function (ok) {
        if (status) status.textContent = ok ? "已复制，可以粘贴到微信群" : "请长按文字选择复制";
      });
    });
  });

  /* Printing: every fold opens (answers, the clauses a basis quotes), and closes again
     afterwards. CSS cannot open <details>. */
  var opened = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (d) {
      d.open = true;
      opened.push(d);
    });
  });
  window.addEventListener("afterprint", function () {
    opened.splice(0).forEach(function (d) { d.open = false; });
  });
})();
