// Live pages: the content is fetched again every few seconds and swapped in place, unless
// the operator is busy with a form on it (focus in a field, or a box ticked).
(function () {
  "use strict";
  var seconds = Number(document.body.dataset.refresh || 0);
  if (!seconds) { return; }
  function busy(main) {
    var active = document.activeElement;
    if (active && main.contains(active) && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(active.tagName)) {
      return true;
    }
    return main.querySelector("input[type=checkbox]:checked") !== null;
  }
  function refresh() {
    var main = document.getElementById("inhalt");
    if (!main || busy(main) || document.hidden) { return; }
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Console-Refresh": "1" } })
      .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
      .then(function (html) {
        if (!html || busy(main)) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("inhalt");
        if (fresh) {
          main.innerHTML = fresh.innerHTML;
          var live = document.getElementById("live");
          if (live) { live.textContent = "Aktualisiert um " + new Date().toLocaleTimeString("de-DE") + "."; }
        }
      })
      .catch(function () { /* the next round tries again */ });
  }
  window.setInterval(refresh, seconds * 1000);
})();
