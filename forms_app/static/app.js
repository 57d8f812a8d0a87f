// Copy buttons for tracking codes. Without JavaScript the button stays hidden and the code
// is plain text to select. Where navigator.clipboard is missing (old WebViews, pages over
// plain http) or refuses, a tap selects the code and asks for a long press instead.
(function () {
  function selectText(element) {
    var selection = window.getSelection && window.getSelection();
    if (!selection || !document.createRange) return false;
    var range = document.createRange();
    range.selectNodeContents(element);
    selection.removeAllRanges();
    selection.addRange(range);
    return true;
  }

  var buttons = document.querySelectorAll("button[data-copy]");
  for (var i = 0; i < buttons.length; i++) {
    (function (button) {
      var id = button.getAttribute("data-copy");
      var source = document.getElementById(id);
      var status = document.querySelector('[data-copy-status="' + id + '"]');
      var name = button.getAttribute("data-copy-name") || "查询码";  // 恢复码, 重设密码码
      if (!source) return;
      function say(message) {
        if (status) {
          status.textContent = message;
          status.hidden = false;
        }
      }
      function selectInstead() {
        if (selectText(source)) say("已选中，请长按复制");
        else say("请长按" + name + "复制");
      }
      button.hidden = false;
      button.addEventListener("click", function () {
        var text = source.textContent.replace(/\s+/g, "");
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(text).then(function () {
            button.textContent = "已复制";
            say(name + "已复制，可以粘贴到备忘录或微信收藏。");
          }, selectInstead);
        } else {
          selectInstead();
        }
      });
    })(buttons[i]);
  }
})();
