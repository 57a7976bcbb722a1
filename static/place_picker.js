// Picking a place's position on a map: clicking the map (or dragging its pin) fills the latitude
// and longitude fields; typing coordinates moves the pin. Markup (templates/edit_place.html):
//   <input data-pick-lat> <input data-pick-lon> <div data-map data-place-picker ...></div>
// Needs static/map.js (window.CrossingsMap) loaded before it; without scripts the fields still work.
(function () {
  "use strict";

  function start() {
    var element = document.querySelector("[data-place-picker]");
    var lat = document.querySelector("[data-pick-lat]");
    var lon = document.querySelector("[data-pick-lon]");
    if (!element || !lat || !lon || !window.CrossingsMap) { return; }
    window.CrossingsMap.get(element).then(function (handle) {
      handle.enablePicking(function () {
        // Typed values and picked ones are checked the same way by the server; mark the fields edited.
        lat.dispatchEvent(new Event("input", { bubbles: true }));
        lon.dispatchEvent(new Event("input", { bubbles: true }));
      }, { lat: lat, lon: lon });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
