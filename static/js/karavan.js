// The few behaviours every page shares, without inline scripts (the CSP forbids them).
(function () {
  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }
  // The browser's time zone, for the server to show times in it (core/localtime.py).
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("karavan_tz=" + zone) === -1) {
      document.cookie = "karavan_tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* an old browser: the profile's country decides */ }
  ready(function () {
    // The folding menu on narrow screens.
    var bar = document.querySelector(".topbar");
    var toggle = document.querySelector(".menu-toggle");
    if (bar && toggle) {
      toggle.addEventListener("click", function () {
        var open = bar.classList.toggle("open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
    // Panels open on a wide screen fold away on a phone (storefront filters).
    if (window.matchMedia("(max-width: 768px)").matches) {
      document.querySelectorAll("details.fold-on-phone[open]").forEach(function (d) { d.removeAttribute("open"); });
    }
    // The language switcher and filters submit on change.
    document.querySelectorAll("[data-submit-on-change]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
    // Forms that undo something ask first.
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
    // A thumbnail shows its photo in the main frame.
    document.querySelectorAll("a[data-show-in]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var frame = document.getElementById(link.dataset.showIn);
        if (!frame) return;
        event.preventDefault();
        frame.src = link.href;
      });
    });
  });
})();
