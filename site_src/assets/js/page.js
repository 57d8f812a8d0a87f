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

  /* 自测题: answered and scored here, without a server (offline too). 对答案 marks each
     question, opens its explanation, shows the score and adds it to the lesson's 记录学习
     link, so the study form starts its reflection with it. No points, no ranking. */
  document.querySelectorAll(".dx-selfcheck").forEach(function (check) {
    var controls = check.querySelector(".dx-selfcheck-controls");
    var button = check.querySelector(".dx-selfcheck-score");
    var result = check.querySelector(".dx-selfcheck-result");
    var questions = check.querySelectorAll(".dx-q");
    var study = document.querySelector('.dx-study-link a[href*="/app/study"]');
    var studyHref = study && study.getAttribute("href");
    if (!controls || !button || !questions.length) return;
    controls.hidden = false;
    button.addEventListener("click", function () {
      var right = 0, unanswered = 0;
      questions.forEach(function (q) {
        var chosen = q.querySelector("input:checked");
        var mark = q.querySelector(".dx-q-mark");
        var answer = q.querySelector("details.dx-q-answer");
        q.classList.remove("dx-q--right", "dx-q--wrong");
        if (!chosen) {
          unanswered += 1;
          if (mark) mark.textContent = "还没有选择答案";
          return;
        }
        var ok = chosen.value === q.getAttribute("data-answer");
        if (ok) right += 1;
        q.classList.add(ok ? "dx-q--right" : "dx-q--wrong");
        if (mark) mark.textContent = ok ? "✓ 答对了" : "✗ 答错了，看看下面的解析";
        if (answer) answer.open = true;
      });
      var total = questions.length;
      result.textContent = "答对 " + right + "/" + total + " 题" +
        (unanswered ? "（还有 " + unanswered + " 题没选）" : "");
      if (study && studyHref) {
        study.setAttribute("href", studyHref + (studyHref.indexOf("?") < 0 ? "?" : "&") +
          "selfcheck=" + right + "/" + total);
      }
    });
  });

  /* On paper, a link to this site prints its full address (https://host/faq/dues.html
     rather than ../faq/dues.html) and the page's own address heads the first sheet, so a
     printout leads back to the site. Done at once, not only before printing: a browser
     that prints without telling the page still gets it. A copy opened from file:// keeps
     its links' own text (a USB stick's path means nothing on paper). */
  if (/^https?:$/.test(location.protocol)) {
    document.querySelectorAll(".md-content a[href]").forEach(function (a) {
      if (a.origin === location.origin && a.getAttribute("href").charAt(0) !== "#") {
        a.setAttribute("data-dx-path", a.href);
      }
    });
    var inner = document.querySelector(".md-content__inner");
    if (inner) {
      var address = document.createElement("p");
      address.className = "dx-print-address";
      address.textContent = "本页网址：" + location.href.split("#")[0];
      inner.insertBefore(address, inner.firstChild);
    }
  }

  /* Printing: every fold opens (answers, the clauses a basis quotes) and closes again
     afterwards, as CSS cannot open <details>. Both the print events and the print media
     query are heard: some browsers send only one of them. */
  var opened = [];
  function beforePrint() {
    document.querySelectorAll("details:not([open])").forEach(function (d) {
      d.open = true;
      opened.push(d);
    });
  }
  function afterPrint() {
    opened.splice(0).forEach(function (d) { d.open = false; });
  }
  window.addEventListener("beforeprint", beforePrint);
  window.addEventListener("afterprint", afterPrint);
  var printing = window.matchMedia && window.matchMedia("print");
  if (printing) {
    var onChange = function (event) { if (event.matches) beforePrint(); else afterPrint(); };
    if (printing.addEventListener) printing.addEventListener("change", onChange);
    else if (printing.addListener) printing.addListener(onChange);
  }
})();
