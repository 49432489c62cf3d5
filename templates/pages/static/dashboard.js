// Progressive enhancement only; a file, not inline, so the Content-Security-Policy allows no inline script.
document.addEventListener("DOMContentLoaded", function () {
  // Bring this month's column of the timeline into view.
  var box = document.getElementById("tl-scroll"), now = box && box.querySelector("th.now");
  if (now) box.scrollLeft = Math.max(0, now.offsetLeft - box.clientWidth / 2 + now.offsetWidth / 2);
  // A calendar address is selected on focus, ready to copy.
  document.querySelectorAll("input.feed-url").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
  // The printable plan's button (a file opened without the dashboard has none: it needs this script).
  var toolbar = document.querySelector(".toolbar[data-print]");
  if (toolbar) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = toolbar.getAttribute("data-print");
    button.addEventListener("click", function () { window.print(); });
    toolbar.appendChild(button);
  }
});
