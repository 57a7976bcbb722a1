// The map follows the footage (item page): the item's journey leg is highlighted on a small map
// (static/map.js, published positions from /api/journeys/<id>.geojson) and a marker moves along it as
// the clip plays, at the share of the leg that the playing time is of the item's duration; while a
// time range that names a place of the journey plays, the marker stands at that place instead.
// Needs item.js (window.Crossings) and map.js first.
(function () {
  "use strict";

  var section = document.querySelector("[data-follow-map]");
  var crossings = window.Crossings;
  if (!section || !crossings || !window.CrossingsMap || !window.L) {
    return;
  }
  var player = crossings.player;
  var element = section.querySelector("[data-map]");
  var legId = section.dataset.followLeg;
  // "start,end,place_id;...": the item's time ranges at places the viewer may see.
  var ranges = (section.dataset.followRanges || "").split(";").filter(Boolean).map(function (text) {
    var parts = text.split(",");
    return { start: parseFloat(parts[0]), end: parseFloat(parts[1]), placeId: parts[2] };
  });

  function lineOf(layers) {
    var found = null;
    layers.forEach(function (layer) {
      (layer.eachLayer ? layer.getLayers() : [layer]).forEach(function (child) {
        if (!found && child.getLatLngs) {
          found = child.getLatLngs();
        }
      });
    });
    return found;
  }

  // The point `share` (0..1) of the way along the line, by distance.
  function along(points, share) {
    var lengths = [];
    var total = 0;
    for (var i = 1; i < points.length; i += 1) {
      var length = points[i - 1].distanceTo(points[i]);
      lengths.push(length);
      total += length;
    }
    var left = Math.max(0, Math.min(1, share)) * total;
    for (var j = 0; j < lengths.length; j += 1) {
      if (left <= lengths[j] || j === lengths.length - 1) {
        var t = lengths[j] ? Math.min(1, left / lengths[j]) : 0;
        return window.L.latLng(points[j].lat + (points[j + 1].lat - points[j].lat) * t,
                               points[j].lng + (points[j + 1].lng - points[j].lng) * t);
      }
      left -= lengths[j];
    }
    return points[0];
  }

  window.CrossingsMap.get(element).then(function (handle) {
    var points = lineOf(handle.layers(legId));
    if (!points || points.length < 2) {
      return;
    }
    // Where each place of the journey is drawn (stops and crossings carry their place's id).
    var placePoints = {};
    handle.overlay.eachLayer(function (layer) {
      var properties = layer.crossingsProperties;
      if (properties && properties.place_id && layer.getLatLng) {
        placePoints[String(properties.place_id)] = layer.getLatLng();
      }
    });
    // Only the leg's line is highlighted: handle.highlight would also enlarge its stop and crossing for good,
    // and on a map this small they would cover their neighbours (too small to touch, axe's target-size).
    handle.layers(legId).forEach(function (layer) {
      if (layer.crossingsKind === "leg" && layer.eachLayer) {
        layer.eachLayer(function (child) {
          var path = child.getElement && child.getElement();
          if (path) {
            path.classList.add("is-highlighted");
          }
        });
        layer.bringToFront();
      }
    });
    handle.fit(legId, { animate: false, maxZoom: 8 });
    var marker = window.L.circleMarker(points[0], { radius: 7, className: "map-follow-marker", interactive: false })
      .addTo(handle.map);
    section.classList.add("follow-map--ready");

    function place() {
      var time = player.currentTime || 0;
      var inRange = ranges.filter(function (range) {
        return time >= range.start && time < range.end && placePoints[range.placeId];
      })[0];
      var duration = player.duration;
      var share = duration && isFinite(duration) ? time / duration : 0;
      var at = inRange ? placePoints[inRange.placeId] : along(points, share);
      marker.setLatLng(at);
      section.dataset.followShare = share.toFixed(3);
      section.dataset.followAt = inRange ? "place-" + inRange.placeId : "leg";
    }
    ["timeupdate", "seeked", "loadedmetadata"].forEach(function (name) {
      player.addEventListener(name, place);
    });
    place();
    // A phone turned on its side: the map is another size, and the leg is fitted to it again.
    var refit = 0;
    window.addEventListener("resize", function () {
      window.clearTimeout(refit);
      refit = window.setTimeout(function () {
        handle.map.invalidateSize();
        handle.fit(legId, { animate: false, maxZoom: 8 });
      }, 150);
    });
  }).catch(function () { /* map.js has said why on the map itself */ });
}());
