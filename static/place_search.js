// A searched place field (templates/_form_macros.html place_field): as the editor types, the
// places whose name contains the text are fetched from the archive and offered in the field's
// <datalist>. The form sends the text, "Hyesan (KP)", and the server finds the place by it.
(function () {
  "use strict";

  var WAIT_MS = 150;  // between the last keystroke and the request
  var MIN_CHARS = 1;

  function bind(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var timer = null;
    var asked = null;

    function fill(places) {
      list.replaceChildren.apply(list, places.map(function (place) {
        var option = document.createElement("option");
        option.value = place.label;
        return option;
      }));
    }

    function search() {
      var text = input.value.trim();
      if (text.length < MIN_CHARS || text === asked) { return; }
      asked = text;
      fetch(input.dataset.placeSearch + "?q=" + encodeURIComponent(text), {
        credentials: "same-origin", headers: { Accept: "application/json" }
      }).then(function (response) {
        return response.ok ? response.json() : { places: [] };
      }).then(function (body) {
        if (asked === text) { fill(body.places || []); }  // a slower, older answer must not win
      }).catch(function () { /* offline or logged out: the field still takes typed text */ });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, WAIT_MS);
    });
  }

  function start() {
    document.querySelectorAll("input[data-place-search]").forEach(bind);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
