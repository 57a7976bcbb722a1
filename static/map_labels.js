// Names on the maps drawn by static/map.js: each country's at the label_point of its outline
// (scripts/build-geodata.py puts it inside the country, where a bounding-box centre is not for
// Vietnam or Laos), and each stop, crossing and place beside its marker.
//
// Load it after leaflet.js and before map.js (all with defer). map.js makes one Labels per map:
//   labels.addCountry(feature)               a base-layer outline, properties {name, label_point}
//   labels.addMark(layer, text, kind, rank)  a drawn stop, crossing or place and its name (or "")
//   labels.emphasise(layers)                 the highlighted layers, named before all others
// and the labels are laid out again whenever the view changes (labels.layout()).
//
// Placement is greedy, in order of importance: every marker is an obstacle, then each stop label
// takes the first side of its marker (right, left, above, below, then the corners) that covers no
// marker, no label already placed and no map control, and stays on the map; then places,
// countries, crossings the same way. A label with no such side is hidden until a zoom (or a
// highlight) gives it room. Labels are never interactive (pointer-events: none, under the marker
// pane): a click meant for a marker reaches it.
(function () {
  "use strict";

  var L = window.L;
  var GAP = 3;  // px between a marker and its label
  // Order of placement; a label later in it gives way. Crossings come after countries: a
  // crossing mostly sits at a stop whose name it repeats ("Chiang Saen landing"), while a
  // country's label is the only name its area has.
  var PRIORITY = { stop: 0, place: 1, country: 2, crossing: 3 };

  function intersects(a, b) {
    return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
  }

  function labelMarker(latlng, text, className, pane) {
    var span = document.createElement("span");
    span.textContent = text;
    // The marker's own title names it for assistive technology; the label would say it twice.
    span.setAttribute("aria-hidden", "true");
    // iconSize null: the label is as large as its text, its top left corner on the point; layout()
    // moves it with `translate`, which leaves Leaflet's own transform alone.
    var icon = L.divIcon({ className: "map-label " + className, html: span, iconSize: null });
    return L.marker(latlng, { icon: icon, pane: pane, interactive: false, keyboard: false });
  }

  // Even-odd ray casting over all rings ([lon, lat]), so a point in a hole (a lake) is outside.
  function inside(latlng, polygon) {
    var x = latlng.lng;
    var y = latlng.lat;
    var result = false;
    polygon.forEach(function (ring) {
      for (var i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
        var a = ring[i];
        var b = ring[j];
        if ((a[1] > y) !== (b[1] > y) && x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0]) {
          result = !result;
        }
      }
    });
    return result;
  }

  // The polygon holding the label point, and its outer ring's bounds: the room a name has (not
  // the whole feature's, which for France would reach French Guiana).
  function roomOf(feature, point) {
    var geometry = feature.geometry;
    var polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    var best = null;
    polygons.forEach(function (polygon) {
      var bounds = L.latLngBounds(polygon[0].map(function (p) { return [p[1], p[0]]; }));
      if (inside(point, polygon) && (!best || area(bounds) > area(best.bounds))) {
        best = { polygon: polygon, bounds: bounds };
      }
    });
    return best;
  }

  function area(bounds) {
    return (bounds.getEast() - bounds.getWest()) * (bounds.getNorth() - bounds.getSouth());
  }

  function Labels(map) {
    this.map = map;
    this.entries = [];
    this.count = 0;
    if (!map.getPane("crossings-country-labels")) {
      // Above the outlines, routes and circles (overlay pane, 400); below the markers (600).
      map.createPane("crossings-country-labels").style.zIndex = 450;
      map.createPane("crossings-labels").style.zIndex = 550;
    }
    var labels = this;
    map.on("moveend viewreset resize", function () { labels.layout(); });
  }

  Labels.prototype.addCountry = function (feature) {
    var properties = feature.properties || {};
    var at = properties.label_point;
    if (!properties.name || !Array.isArray(at)) { return null; }
    var latlng = L.latLng(at[1], at[0]);
    var room = roomOf(feature, latlng);
    if (!room) { return null; }
    var marker = labelMarker(latlng, String(properties.name), "map-label--country", "crossings-country-labels");
    // Larger countries first: at a glance China matters more than Macau.
    var corner = this.map.project(room.bounds.getNorthWest(), 0);
    var size = this.map.project(room.bounds.getSouthEast(), 0).subtract(corner);
    return this.add({ kind: "country", latlng: latlng, room: room, rank: -size.x * size.y, label: marker });
  };

  // A stop, crossing or place: an obstacle for every label, and its own name beside it.
  Labels.prototype.addMark = function (layer, text, kind, rank) {
    var label = text ? labelMarker(layer.getLatLng(), String(text), "map-label--" + kind, "crossings-labels") : null;
    return this.add({ kind: kind, layer: layer, latlng: layer.getLatLng(), rank: rank || 0, label: label });
  };

  Labels.prototype.add = function (entry) {
    entry.order = this.count++;
    this.entries.push(entry);
    if (entry.label) { entry.label.addTo(this.map); }
    this.layoutSoon();
    return entry;
  };

  // Forget the marks of layers taken off the map (the archive map redraws its places).
  Labels.prototype.remove = function (layer) {
    var map = this.map;
    this.entries = this.entries.filter(function (entry) {
      if (entry.layer !== layer) { return true; }
      if (entry.label) { map.removeLayer(entry.label); }
      return false;
    });
    this.layoutSoon();
  };

  // Name these layers first (map.js's highlighted ones), whatever their kind.
  Labels.prototype.emphasise = function (layers) {
    this.entries.forEach(function (entry) { entry.emphasised = layers.indexOf(entry.layer) >= 0; });
    this.layout();
  };

  Labels.prototype.layoutSoon = function () {
    var labels = this;
    if (this.pending) { return; }
    this.pending = true;
    window.setTimeout(function () { labels.pending = false; labels.layout(); }, 0);
  };

  // A marker's box on screen [left, top, right, bottom], where map.js's spreading moved it.
  Labels.prototype.markBox = function (layer) {
    var p = this.map.latLngToContainerPoint(layer.getLatLng());
    var half;
    if (layer.getRadius) {
      half = [layer.getRadius(), layer.getRadius()];
    } else {
      var size = (layer.options.icon && layer.options.icon.options.iconSize) || [26, 26];
      half = [size[0] / 2, size[1] / 2];
    }
    var shift = layer.crossingsShift || [0, 0];
    return [p.x + shift[0] - half[0], p.y + shift[1] - half[1], p.x + shift[0] + half[0], p.y + shift[1] + half[1]];
  };

  // A country's name may move this far off its point (in label widths and heights) to make way
  // for a stop's, as long as it stays inside the country.
  var COUNTRY_SHIFTS = [[0, 0], [0, -1], [0, 1], [-0.5, 0], [0.5, 0], [0, -2], [0, 2],
                        [-0.5, -1], [0.5, -1], [-0.5, 1], [0.5, 1]];

  // Fractions of the visible room, its middle first.
  var GRID = [[0.5, 0.5], [0.5, 0.25], [0.5, 0.75], [0.25, 0.5], [0.75, 0.5],
              [0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]];

  // Where a label of size [w, h] may go, as boxes: beside its marker, or for a country on its
  // point or a little off it. Zoomed in on a border (the Yalu), the points of both countries lie
  // off the map: then anywhere in the part of the country's room in view, so both are named.
  Labels.prototype.candidates = function (entry, w, h, room) {
    if (entry.kind === "country") {
      var p = this.map.latLngToContainerPoint(entry.latlng);
      var view = this.map.getSize();
      var anchors = [p];
      if (p.x < 0 || p.y < 0 || p.x > view.x || p.y > view.y) {
        var left = Math.max(room[0], 0) + w / 2;
        var top = Math.max(room[1], 0) + h / 2;
        var right = Math.min(room[2], view.x) - w / 2;
        var bottom = Math.min(room[3], view.y) - h / 2;
        anchors = [];
        if (left <= right && top <= bottom) {
          GRID.forEach(function (f) {
            anchors.push(L.point(left + f[0] * (right - left), top + f[1] * (bottom - top)));
          });
        }
      }
      var boxes = [];
      anchors.forEach(function (anchor) {
        COUNTRY_SHIFTS.forEach(function (shift) {
          var x = anchor.x - w / 2 + shift[0] * w;
          var y = anchor.y - h / 2 + shift[1] * h;
          boxes.push([x, y, x + w, y + h]);
        });
      });
      return boxes;
    }
    var m = this.markBox(entry.layer);
    var cx = (m[0] + m[2]) / 2;
    var cy = (m[1] + m[3]) / 2;
    var inset = (m[2] - m[0]) / 4;  // a corner label still touches its marker
    return [[m[2] + GAP, cy - h / 2], [m[0] - GAP - w, cy - h / 2],
            [cx - w / 2, m[1] - GAP - h], [cx - w / 2, m[3] + GAP],
            [m[2] - inset, m[1] - h], [m[2] - inset, m[3]], [m[0] + inset - w, m[1] - h], [m[0] + inset - w, m[3]]]
      .map(function (c) { return [c[0], c[1], c[0] + w, c[1] + h]; });
  };

  // Whether a country's name, in the box, reads as inside it: its middle and both its ends are.
  Labels.prototype.within = function (box, polygon) {
    var map = this.map;
    var y = (box[1] + box[3]) / 2;
    return [box[0], (box[0] + box[2]) / 2, box[2]].every(function (x) {
      return inside(map.containerPointToLatLng([x, y]), polygon);
    });
  };

  Labels.prototype.layout = function () {
    var map = this.map;
    if (!map._loaded) { return; }
    var labels = this;
    var view = map.getSize();
    var container = map.getContainer();
    var origin = container.getBoundingClientRect();
    var taken = [];
    // The zoom buttons and the attribution: a name under them cannot be read.
    Array.prototype.forEach.call(container.querySelectorAll(".leaflet-control"), function (control) {
      var r = control.getBoundingClientRect();
      taken.push([r.left - origin.left, r.top - origin.top, r.right - origin.left, r.bottom - origin.top]);
    });
    var entries = this.entries.slice().sort(function (a, b) {
      return (Number(!!b.emphasised) - Number(!!a.emphasised)) || (PRIORITY[a.kind] - PRIORITY[b.kind])
        || (a.rank - b.rank) || (a.order - b.order);
    });
    entries.forEach(function (entry) {
      if (entry.layer) { taken.push(labels.markBox(entry.layer)); }
      // Measured once, all before any label moves: reading sizes between writes would lay out
      // the page again for each of some 240 countries.
      var element = entry.label && entry.label.getElement();
      if (element && !(entry.size && entry.size[0])) { entry.size = [element.offsetWidth, element.offsetHeight]; }
    });
    entries.forEach(function (entry) {
      var element = entry.label && entry.label.getElement();
      if (!element) { return; }
      var w = entry.size[0];
      var h = entry.size[1];
      var room = null;
      if (entry.room) {
        var nw = map.latLngToContainerPoint(entry.room.bounds.getNorthWest());
        var se = map.latLngToContainerPoint(entry.room.bounds.getSouthEast());
        room = [nw.x, nw.y, se.x, se.y];
        if (w > room[2] - room[0] || h > room[3] - room[1]) { room = false; }  // too small at this zoom
      }
      var chosen = null;
      var options = w && h && room !== false ? labels.candidates(entry, w, h, room) : [];
      for (var i = 0; i < options.length && !chosen; i += 1) {
        var box = options[i];
        var fits = box[0] >= 0 && box[1] >= 0 && box[2] <= view.x && box[3] <= view.y
          && !taken.some(function (other) { return intersects(box, other); })
          && (!room || labels.within(box, entry.room.polygon));
        if (fits) { chosen = box; }
      }
      if (chosen) {
        var at = map.latLngToContainerPoint(entry.latlng);
        element.style.translate = Math.round(chosen[0] - at.x) + "px " + Math.round(chosen[1] - at.y) + "px";
        taken.push(chosen);
      }
      element.classList.toggle("is-hidden", !chosen);
    });
  };

  window.CrossingsMapLabels = { Labels: Labels };
}());
