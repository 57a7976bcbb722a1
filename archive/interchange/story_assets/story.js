// The classroom package's script: everything it needs is in the page (no fetch, which file:// refuses).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("story-data").textContent);
  var countries = JSON.parse(document.getElementById("story-countries").textContent);

  function drawMap() {
    var element = document.getElementById("story-map");
    if (!window.L || !element) { return; }
    var map = L.map(element, {attributionControl: false, scrollWheelZoom: false});
    var route = data.geojson.features;
    var transit = data.journey.countries_of_transit || [];
    L.geoJSON(countries, {interactive: false, style: function (f) {
      var code = f.properties.iso2;
      return {color: "#8a8a8a", weight: 0.6, fillColor: transit.indexOf(code) >= 0 ? "#efe6cf" : "#f4f4f1", fillOpacity: 1};
    }}).addTo(map);
    var legs = L.geoJSON({type: "FeatureCollection", features: route.filter(function (f) { return f.properties.kind === "leg"; })}, {
      style: function (f) { return {color: "#b3261e", weight: 4, className: "story-map-leg story-map-leg-" + f.properties.leg}; },
      onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.name); }
    }).addTo(map);
    L.geoJSON({type: "FeatureCollection", features: route.filter(function (f) { return f.properties.kind !== "leg" && f.properties.kind !== "route"; })}, {
      pointToLayer: function (f, latlng) {
        var crossing = f.properties.kind === "crossing";
        return L.circleMarker(latlng, {radius: crossing ? 5 : 7, color: crossing ? "#1d4f91" : "#222", weight: 2,
          fillColor: crossing ? "#fff" : "#b3261e", fillOpacity: 1, className: "story-map-" + f.properties.kind})
          .bindTooltip((crossing ? "Crossing: " : (f.properties.badge + ": ")) + f.properties.name);
      }
    }).addTo(map);
    var bounds = legs.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds, {padding: [24, 24]}); } else { map.setView([20, 100], 3); }
    window.storyMap = map;
  }

  function cueAt(cues, time) {
    for (var i = 0; i < cues.length; i++) { if (time >= cues[i][0] && time < cues[i][1]) { return i; } }
    return -1;
  }

  function wireClip(figure) {
    var media = figure.querySelector("[data-clip]");
    if (!media) { return; }
    var item = data.items[figure.dataset.item];
    var start = figure.dataset.start ? parseFloat(figure.dataset.start) : null;
    var end = figure.dataset.end ? parseFloat(figure.dataset.end) : null;
    var caption = figure.querySelector("[data-caption]");
    var lists = figure.querySelectorAll("[data-cues]");
    if (start !== null) {
      media.addEventListener("loadedmetadata", function () { media.currentTime = start; }, {once: true});
    }
    media.addEventListener("timeupdate", function () {
      if (end !== null && media.currentTime >= end) { media.pause(); }
      lists.forEach(function (list) {
        var cues = item.transcripts[parseInt(list.dataset.cues, 10)].cues;
        var at = cueAt(cues, media.currentTime);
        list.querySelectorAll("li").forEach(function (li, i) { li.classList.toggle("is-current", i === at); });
      });
    });
    // The captions come from the <track> (a data: URL); the line under the player repeats the current one.
    Array.prototype.forEach.call(media.textTracks, function (track, i) {
      if (i === 0) { track.mode = "showing"; }
      track.addEventListener("cuechange", function () {
        if (track.mode !== "showing") { return; }
        var active = track.activeCues;
        // getCueAsHTML drops the WebVTT voice tags (<v Guide>) that .text keeps.
        caption.textContent = active && active.length ? active[0].getCueAsHTML().textContent : "";
      });
    });
    figure.querySelectorAll(".story-time").forEach(function (button) {
      button.addEventListener("click", function () {
        media.currentTime = parseFloat(button.parentNode.dataset.start);
        media.play();
      });
    });
    media.addEventListener("play", function () {
      var leg = figure.closest(".story-leg");
      document.querySelectorAll(".story-leg.is-playing").forEach(function (el) { el.classList.remove("is-playing"); });
      leg.classList.add("is-playing");
      document.querySelectorAll(".story-map-leg").forEach(function (path) {
        path.classList.toggle("is-playing", path.classList.contains("story-map-leg-" + leg.dataset.leg));
      });
    });
  }

  drawMap();
  document.querySelectorAll(".story-clip").forEach(wireClip);
})();
