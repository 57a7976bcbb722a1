// Maps that work offline: Leaflet (served from /static/vendor/leaflet/) over Natural Earth
// country outlines (static/geodata/countries.geojson); a tile server only if one is configured.
//
// Markup (load leaflet.css, then leaflet.js and this file with defer; no inline script):
//   <div class="crossings-map" data-map
//        data-base-url="/static/geodata/countries.geojson"   country outlines (required)
//        data-geojson-url="/api/journeys/1.geojson"          features to draw (optional)
//        data-tile-url=""  data-tile-attribution=""           the map_tile_url setting (optional)
//        data-center="40.1,127.2" data-zoom="5"               view when nothing is drawn (optional)
//        data-max-zoom="10" aria-label="Route of the journey"></div>
//
// Every [data-map] element is made a map when the page has loaded. Page scripts reach one with
//   CrossingsMap.get(element).then(function (handle) { ... })
// and the element fires (bubbling CustomEvents, detail {id, kind, properties, layer}):
//   crossingsmap:ready   detail {handle} once the outlines and features are drawn
//   crossingsmap:hover   pointer entered a feature (detail.active true) or left it (false)
//   crossingsmap:select  a feature was clicked or, for markers, activated with the keyboard
//   crossingsmap:pick    the picking pin was placed or dragged (detail {lat, lon})
//
// With static/map_labels.js loaded first, countries, stops, crossings and places carry their names.
//
// Features to draw are GeoJSON with [longitude, latitude] order; properties.kind chooses how:
//   "route" or "leg" (LineString)  a line; "stop" (Point) a numbered marker (properties.number);
//   "crossing" (Point)             a crossing marker; "place" (Point) a circle sized by
//   properties.count. Optional properties: id (or the feature's id) for highlight and events,
//   name, url (a popup link), label (popup text for the link).
(function () {
  "use strict";

  var L = window.L;
  var NO_TILES_MAX_ZOOM = 10;  // the 1:50m outlines hold no more detail than this
  var maps = new WeakMap();     // element -> Promise of its handle

  function attr(element, name) {
    var value = element.getAttribute("data-" + name);
    return value === null ? "" : value.trim();
  }

  function fetchJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json, application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(url + " answered " + response.status);
        }
        return response.json();
      });
  }

  function featureId(feature) {
    var properties = feature.properties || {};
    var id = properties.id !== undefined && properties.id !== null ? properties.id : feature.id;
    return id === undefined || id === null ? null : String(id);
  }

  function featureKind(feature) {
    var properties = feature.properties || {};
    if (properties.kind) {
      return String(properties.kind);
    }
    var type = feature.geometry && feature.geometry.type;
    if (type === "LineString" || type === "MultiLineString") {
      return "route";
    }
    return properties.count !== undefined ? "place" : "stop";
  }

  // Popup content built as nodes, so names from the catalogue are never parsed as HTML.
  function popupContent(properties, kind) {
    var box = document.createElement("div");
    box.className = "map-popup";
    var title = properties.name || properties.title;
    if (title) {
      var heading = document.createElement("strong");
      heading.textContent = String(title);
      box.appendChild(heading);
    }
    if (kind === "place" && properties.count !== undefined) {
      var count = document.createElement("span");
      count.className = "map-popup__count";
      count.textContent = properties.count + (Number(properties.count) === 1 ? " item" : " items");
      box.appendChild(count);
    }
    if (properties.url) {
      var link = document.createElement("a");
      link.href = String(properties.url);
      link.textContent = properties.label ? String(properties.label)
        : (kind === "place" ? "List the items" : "Open");
      box.appendChild(link);
    }
    return box.childNodes.length ? box : null;
  }

  function numberIcon(number, className) {
    var label = document.createElement("span");
    label.textContent = number === undefined || number === null ? "" : String(number);
    return L.divIcon({ className: className, html: label, iconSize: [26, 26], iconAnchor: [13, 13],
                       popupAnchor: [0, -13] });
  }

  // Crossings are drawn above the stops; spreadStops moves one off a stop it would cover.
  var CROSSING_Z = 500;

  function crossingIcon() {
    var mark = document.createElement("span");
    mark.setAttribute("aria-hidden", "true");
    return L.divIcon({ className: "map-crossing", html: mark, iconSize: [24, 24], iconAnchor: [12, 12],
                       popupAnchor: [0, -12] });
  }

  function placeRadius(count) {
    // Area grows with the count; capped so one busy place does not cover a region.
    return Math.min(28, 5 + 2.5 * Math.sqrt(Math.max(0, Number(count) || 0)));
  }

  function latLngOf(point) {
    if (Array.isArray(point)) {
      return L.latLng(point[1], point[0]);  // GeoJSON order: [lon, lat]
    }
    if (point && point.geometry) {
      return latLngOf(point.geometry.coordinates);
    }
    return L.latLng(point);
  }

  function Handle(element, map) {
    this.element = element;
    this.map = map;
    this.base = null;
    this.overlay = L.featureGroup().addTo(map);
    this.byId = {};
    this.highlighted = [];
    this.stopCount = 0;
    this.stops = [];
    this.crossings = [];
    this.pin = null;
    var Labels = window.CrossingsMapLabels && window.CrossingsMapLabels.Labels;
    this.labels = Labels ? new Labels(map) : null;
    var labels = this.labels;
    if (labels) {
      this.overlay.on("layerremove", function (event) { labels.remove(event.layer); });
    }
  }

  // The layer's name beside it, placed with the other labels (map_labels.js); rank orders those
  // of one kind, lowest first.
  Handle.prototype.label = function (layer, kind, properties, rank) {
    if (this.labels) { this.labels.addMark(layer, properties.name || "", kind, rank); }
  };

  Handle.prototype.emit = function (name, detail) {
    this.element.dispatchEvent(new CustomEvent("crossingsmap:" + name, { bubbles: true, detail: detail }));
  };

  // Register a drawn layer: its id for highlight(), its events for the page.
  Handle.prototype.track = function (layer, id, kind, properties) {
    var handle = this;
    layer.crossingsKind = kind;
    layer.crossingsProperties = properties || {};  // page scripts find a stop's place by it (map_follows.js)
    if (id !== null && id !== undefined) {
      id = String(id);
      (handle.byId[id] = handle.byId[id] || []).push(layer);
    }
    var detail = function (extra) {
      var out = { id: id === undefined ? null : id, kind: kind, properties: properties || {}, layer: layer };
      for (var key in extra) { out[key] = extra[key]; }
      return out;
    };
    layer.on("mouseover", function () { handle.emit("hover", detail({ active: true })); });
    layer.on("mouseout", function () { handle.emit("hover", detail({ active: false })); });
    layer.on("click", function () { handle.emit("select", detail({})); });
    layer.on("keypress", function (event) {
      var key = event.originalEvent && event.originalEvent.key;
      if (key === "Enter" || key === " ") { handle.emit("select", detail({})); }
    });
    var content = properties && popupContent(properties, kind);
    if (content) {
      layer.bindPopup(content);
    }
    layer.addTo(handle.overlay);
    return layer;
  };

  // A line through [[lon, lat], ...] points, a LineString geometry or a Feature.
  Handle.prototype.drawRoute = function (line, options) {
    options = options || {};
    var feature = line.type === "Feature" ? line
      : { type: "Feature", properties: {}, geometry: line.type ? line : { type: "LineString", coordinates: line } };
    var kind = options.kind || (feature.properties && feature.properties.kind) || "route";
    var layer = L.geoJSON(feature, { style: { className: "map-line map-" + kind } });
    var id = options.id !== undefined ? options.id : featureId(feature);
    return this.track(layer, id, kind, options.properties || feature.properties);
  };

  // A numbered stop at a [lon, lat] point (or a Point feature).
  Handle.prototype.addStop = function (point, number, options) {
    options = options || {};
    this.stopCount += 1;
    var properties = options.properties || (point.properties) || {};
    if (number === undefined || number === null) {
      number = properties.badge !== undefined ? properties.badge
        : properties.number !== undefined ? properties.number : this.stopCount;
    }
    var title = properties.name || properties.title || ("Stop " + number);
    var marker = L.marker(latLngOf(point), { icon: numberIcon(number, "map-stop"), title: String(title),
                                             alt: String(title), riseOnHover: true });
    var id = options.id !== undefined ? options.id : (point.type === "Feature" ? featureId(point) : null);
    this.track(marker, id, "stop", properties);
    this.label(marker, "stop", properties, this.stopCount);
    this.stops.push(marker);
    this.spreadSoon();
    return marker;
  };

  // Stops nearer on screen than a marker is wide (Hyesan and Changbai, 2.7 km apart) would hide
  // each other's numbers: each later one is moved sideways, in whole marker widths, until it is
  // clear, again at every zoom. Only the number moves; the marker still sits on its place.
  var STOP_SPACING = 28;  // the 26 px marker and a little air

  Handle.prototype.spreadSoon = function () {
    var handle = this;
    if (!this.spreading) {  // once, with the first stop or crossing: again at every zoom
      this.spreading = true;
      this.map.on("zoomend viewreset", function () { handle.spreadStops(); });
    }
    if (this.spreadPending) { return; }
    this.spreadPending = true;
    window.setTimeout(function () { handle.spreadPending = false; handle.spreadStops(); }, 0);
  };

  Handle.prototype.spreadStops = function () {
    var map = this.map;
    if (!map._loaded) { return; }  // no view yet: fitting the route will zoom, and zoomend calls again
    var placed = [];
    var clear = function (x, y) {
      return placed.every(function (p) {
        return Math.abs(p.x - x) >= STOP_SPACING || Math.abs(p.y - y) >= STOP_SPACING;
      });
    };
    this.stops.forEach(function (marker) {
      var element = marker.getElement();
      var label = element && element.firstChild;
      if (!label) { return; }
      var at = map.latLngToLayerPoint(marker.getLatLng());
      var dx = 0;
      while (!clear(at.x + dx, at.y) && dx < STOP_SPACING * 8) { dx += STOP_SPACING; }
      label.style.translate = dx ? dx + "px 0" : "";
      marker.crossingsShift = [dx, 0];  // where its labels and the others' must keep clear of
      placed.push(L.point(at.x + dx, at.y));
      if (dx) { placed.push(at); }  // the marker itself stays on its place: keep clear of it too
    });
    // Then each crossing, on its point when that is clear, else beside it like a badge (up, right,
    // down, left, then further out): a crossing at a stop (the Changbai landing) is neither hidden
    // under it nor covering it, and both stay targets of 24 px.
    var CLEAR = 26;
    var free = function (x, y) {
      return placed.every(function (p) { return Math.abs(p.x - x) >= CLEAR || Math.abs(p.y - y) >= CLEAR; });
    };
    this.crossings.forEach(function (marker) {
      var element = marker.getElement();
      if (!element) { return; }
      var at = map.latLngToLayerPoint(marker.getLatLng());
      var offset = [0, 0];
      for (var ring = 1; !free(at.x + offset[0], at.y + offset[1]) && ring <= 4; ring += 1) {
        var step = ring * CLEAR;
        var options = [[step, -step], [0, -step], [step, 0], [0, step], [-step, 0], [-step, -step], [step, step],
                       [-step, step]];
        for (var i = 0; i < options.length; i += 1) {
          if (free(at.x + options[i][0], at.y + options[i][1])) { offset = options[i]; break; }
        }
      }
      element.style.translate = offset[0] || offset[1] ? offset[0] + "px " + offset[1] + "px" : "";
      marker.crossingsShift = offset;
      placed.push(L.point(at.x + offset[0], at.y + offset[1]));
    });
    if (this.labels) { this.labels.layout(); }  // markers moved: their names follow
  };

  // A border crossing at a [lon, lat] point (or a Point feature).
  Handle.prototype.addCrossing = function (point, options) {
    options = options || {};
    var properties = options.properties || point.properties || {};
    var title = properties.name || properties.title || "Border crossing";
    var marker = L.marker(latLngOf(point), { icon: crossingIcon(), title: String(title), alt: String(title),
                                             riseOnHover: true, zIndexOffset: CROSSING_Z });
    var id = options.id !== undefined ? options.id : (point.type === "Feature" ? featureId(point) : null);
    this.crossings.push(marker);
    this.spreadSoon();
    this.track(marker, id, "crossing", properties);
    this.label(marker, "crossing", properties, 0);
    return marker;
  };

  // A place as a circle whose size follows properties.count; its popup links properties.url.
  Handle.prototype.addPlace = function (point, options) {
    options = options || {};
    var properties = options.properties || point.properties || {};
    var circle = L.circleMarker(latLngOf(point), { radius: placeRadius(properties.count), className: "map-place" });
    var id = options.id !== undefined ? options.id : (point.type === "Feature" ? featureId(point) : null);
    this.track(circle, id, "place", properties);
    this.label(circle, "place", properties, -(Number(properties.count) || 0));  // busiest first
    return circle;
  };

  // Draw a Feature or FeatureCollection, each feature as its properties.kind asks.
  Handle.prototype.drawGeoJSON = function (data) {
    var handle = this;
    var features = data.type === "FeatureCollection" ? data.features : [data];
    features.forEach(function (feature) {
      if (!feature || !feature.geometry) {
        return;
      }
      var kind = featureKind(feature);
      var type = feature.geometry.type;
      if (type === "Point") {
        if (kind === "crossing") { handle.addCrossing(feature); }
        else if (kind === "place") { handle.addPlace(feature); }
        else { handle.addStop(feature); }
      } else if (type === "LineString" || type === "MultiLineString") {
        handle.drawRoute(feature, { kind: kind === "leg" ? "leg" : "route" });
      } else {
        var area = L.geoJSON(feature, { style: { className: "map-area" } });
        handle.track(area, featureId(feature), kind, feature.properties);
      }
    });
    return handle;
  };

  // Fit the view to what is drawn (or to the layers of one id); true if there was something to fit.
  Handle.prototype.fit = function (id, options) {
    var layers = id === undefined || id === null ? [this.overlay] : (this.byId[String(id)] || []);
    var bounds = L.latLngBounds([]);
    layers.forEach(function (layer) {
      bounds.extend(layer.getBounds ? layer.getBounds() : layer.getLatLng());
    });
    if (!bounds.isValid()) {
      return false;
    }
    this.map.fitBounds(bounds, L.extend({ padding: [24, 24], maxZoom: 8 }, options || {}));
    return true;
  };

  Handle.prototype.layers = function (id) {
    return (this.byId[String(id)] || []).slice();
  };

  function elementsOf(layer) {
    var out = [];
    if (layer.eachLayer) {
      layer.eachLayer(function (child) { out = out.concat(elementsOf(child)); });
    } else if (layer.getElement && layer.getElement()) {
      out.push(layer.getElement());
    }
    return out;
  }

  // Mark the layers of one id (a leg's line, its stop) and raise them; others lose the mark.
  Handle.prototype.highlight = function (id, options) {
    this.unhighlight();
    var layers = this.byId[String(id)] || [];
    layers.forEach(function (layer) {
      elementsOf(layer).forEach(function (element) { element.classList.add("is-highlighted"); });
      if (layer.bringToFront) { layer.bringToFront(); }
      // Raised above the rest, a highlighted crossing still lies above a highlighted stop.
      if (layer.setZIndexOffset) { layer.setZIndexOffset(1000 + (layer.crossingsKind === "crossing" ? CROSSING_Z : 0)); }
    });
    this.highlighted = layers;
    if (this.labels) { this.labels.emphasise(layers); }
    if (layers.length && options && options.pan) {
      this.fit(id, { animate: true });
    }
    return layers.length > 0;
  };

  Handle.prototype.unhighlight = function (id) {
    var keep = [];
    var handle = this;
    this.highlighted.forEach(function (layer) {
      if (id !== undefined && id !== null && (handle.byId[String(id)] || []).indexOf(layer) < 0) {
        keep.push(layer);
        return;
      }
      elementsOf(layer).forEach(function (element) { element.classList.remove("is-highlighted"); });
      if (layer.setZIndexOffset) { layer.setZIndexOffset(layer.crossingsKind === "crossing" ? CROSSING_Z : 0); }
    });
    this.highlighted = keep;
    if (this.labels) { this.labels.emphasise(keep); }
  };

  // Let a click on the map place a draggable pin; onPick({lat, lon}) on every move. With
  // {lat: input, lon: input} the pin follows typed coordinates and fills the fields.
  Handle.prototype.enablePicking = function (onPick, fields) {
    var handle = this;
    fields = fields || {};
    var round = function (value) { return Math.round(value * 1e5) / 1e5; };
    var place = function (latlng, fromInput) {
      // A click on a world copy east or west of the antimeridian still gives a longitude in ±180.
      var wrapped = Math.abs(latlng.lng) > 180 ? latlng.wrap() : latlng;
      if (!handle.pin) {
        handle.pin = L.marker(wrapped, { draggable: true, keyboard: true, title: "Chosen position",
                                         icon: L.divIcon({ className: "map-pin", iconSize: [18, 18] }) })
          .addTo(handle.map);
        handle.pin.on("dragend", function () { place(handle.pin.getLatLng(), false); });
      } else {
        handle.pin.setLatLng(wrapped);
      }
      var position = { lat: round(wrapped.lat), lon: round(wrapped.lng) };
      if (!fromInput) {
        if (fields.lat) { fields.lat.value = position.lat; }
        if (fields.lon) { fields.lon.value = position.lon; }
      }
      if (onPick) { onPick(position); }
      handle.emit("pick", position);
    };
    this.map.on("click", function (event) { place(event.latlng, false); });
    var typed = function () {
      var lat = parseFloat(fields.lat.value);
      var lon = parseFloat(fields.lon.value);
      if (isFinite(lat) && isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
        place(L.latLng(lat, lon), true);
      }
    };
    if (fields.lat && fields.lon) {
      fields.lat.addEventListener("change", typed);
      fields.lon.addEventListener("change", typed);
      typed();
    }
    return this;
  };

  function showMessage(element, text) {
    var message = element.querySelector(".map-message");
    if (!message) {
      message = document.createElement("p");
      message.className = "map-message";
      message.setAttribute("role", "status");
      element.appendChild(message);
    }
    message.textContent = text;
  }

  function create(element) {
    element.classList.add("crossings-map");
    if (!L) {
      showMessage(element, "The map cannot be drawn: Leaflet is not installed on this server.");
      return Promise.reject(new Error("Leaflet (window.L) is not loaded"));
    }
    var tileUrl = attr(element, "tile-url");
    var maxZoom = parseInt(attr(element, "max-zoom"), 10) || (tileUrl ? 18 : NO_TILES_MAX_ZOOM);
    var map = L.map(element, {
      minZoom: 1,
      maxZoom: maxZoom,
      worldCopyJump: false,
      maxBounds: [[-89, -540], [89, 540]],
      zoomSnap: 0.5,
    });
    map.attributionControl.setPrefix(false);
    var handle = new Handle(element, map);
    var center = attr(element, "center").split(",").map(parseFloat);
    map.setView(center.length === 2 && isFinite(center[0]) && isFinite(center[1]) ? center : [25, 100],
                parseFloat(attr(element, "zoom")) || 2);
    if (tileUrl) {
      L.tileLayer(tileUrl, { maxZoom: maxZoom, attribution: attr(element, "tile-attribution") }).addTo(map);
    }

    var baseUrl = attr(element, "base-url");
    var featuresUrl = attr(element, "geojson-url");
    var loads = [baseUrl ? fetchJSON(baseUrl) : Promise.resolve(null),
                 featuresUrl ? fetchJSON(featuresUrl) : Promise.resolve(null)];
    return Promise.all(loads).then(function (results) {
      if (results[0]) {
        // Under the features and not interactive: outlines are the ground, not something to click.
        handle.base = L.geoJSON(results[0], { interactive: false, style: { className: "map-country" } });
        handle.base.addTo(map).bringToBack();
        if (handle.labels) {
          results[0].features.forEach(function (feature) { handle.labels.addCountry(feature); });
        }
        map.attributionControl.addAttribution("Outlines: Natural Earth");
      }
      if (results[1]) {
        handle.drawGeoJSON(results[1]);
        // Not animated: a zoom animation still running when the page moves the map undoes that move.
        handle.fit(null, { animate: false });
      }
      handle.emit("ready", { handle: handle });
      return handle;
    }, function (error) {
      showMessage(element, "The map could not be loaded (" + error.message + ").");
      throw error;
    });
  }

  // The handle of an element's map, made on first use.
  function get(element) {
    if (!maps.has(element)) {
      maps.set(element, create(element));
    }
    return maps.get(element);
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-map]"), function (element) {
      get(element).catch(function (error) {
        if (window.console) { window.console.error("map:", error); }
      });
    });
  }

  window.CrossingsMap = { get: get, create: get, featureId: featureId, placeRadius: placeRadius };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
