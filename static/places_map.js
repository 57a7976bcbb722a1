// The map of the archive: the filter form redraws the places from /api/places.geojson with the
// chosen filters, without reloading the page (without JavaScript the form reloads it instead).
(function () {
  "use strict";

  function start() {
    var form = document.querySelector("[data-map-filters]");
    var element = document.getElementById("places-map");
    if (!form || !element || !window.CrossingsMap || !window.fetch) {
      return;
    }
    var count = form.querySelector("[data-map-count]");
    var base = form.getAttribute("data-geojson-base");

    function query() {
      var params = new URLSearchParams();
      Array.prototype.forEach.call(form.elements, function (field) {
        if (field.name && field.value && field.name !== "csrf_token") { params.set(field.name, field.value); }
      });
      return params.toString();
    }

    function redraw(handle) {
      var search = query();
      var url = base + (search ? "?" + search : "");
      element.setAttribute("data-geojson-url", url);
      if (count) { count.textContent = "Loading…"; }
      return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("the places could not be loaded (" + response.status + ")"); }
          return response.json();
        })
        .then(function (data) {
          handle.unhighlight();
          handle.overlay.clearLayers();
          handle.byId = {};
          handle.drawGeoJSON(data);
          handle.fit(null, { animate: false });
          var n = data.features.length;
          if (count) { count.textContent = n + (n === 1 ? " place" : " places"); }
          var page = window.location.pathname + (search ? "?" + search : "");
          window.history.replaceState(null, "", page);
        })
        .catch(function (error) {
          if (count) { count.textContent = error.message; }
        });
    }

    window.CrossingsMap.get(element).then(function (handle) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        redraw(handle);
      });
      form.addEventListener("change", function () { redraw(handle); });
    }).catch(function () { /* map.js has said why on the map itself */ });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
