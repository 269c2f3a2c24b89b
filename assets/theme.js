// otelscope: the header's light/dark switch. The system's theme until the user picks one, which this browser remembers.
(function () {
  var root = document.documentElement;
  var key = "otelscope-theme";
  try {
    var chosen = localStorage.getItem(key);
    if (chosen === "light" || chosen === "dark") root.setAttribute("data-theme", chosen);
  } catch (e) {}
  root.setAttribute("data-theme-switch", "");
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target || !target.closest || !target.closest("[data-theme-toggle]")) return;
    var now = root.getAttribute("data-theme") ||
      (matchMedia("(prefers-color-scheme: light)").matches ? "light" : "dark");
    var next = now === "light" ? "dark" : "light";
    root.setAttribute("data-theme", next);
    try { localStorage.setItem(key, next); } catch (e) {}
  });
})();
