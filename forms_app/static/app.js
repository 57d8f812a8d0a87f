// Copy buttons for tracking codes. Without JavaScript the code stays selectable text.
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      button.textContent = "已复制";
    }, function () {
      button.textContent = "请长按查询码复制";
    });
  });
});
