// The journey page: the timeline of legs and the route map stay in step. Hovering, focusing or
// selecting a leg in the timeline highlights its line, stop and crossing on the map (they share
// the id "leg-N", see archive.services.journeys.journey_geojson); hovering or choosing them on the
// map marks the leg in the timeline.
(function () {
  "use strict";

  function start() {
    var timeline = document.querySelector("[data-timeline]");
    var element = document.getElementById("journey-map");
    if (!timeline || !element || !window.CrossingsMap) {
      return;
    }
    var legs = {};
    Array.prototype.forEach.call(timeline.querySelectorAll("[data-leg]"), function (entry) {
      legs[entry.getAttribute("data-leg")] = entry;
    });
    var selected = null;

    function markTimeline(id, className) {
      Object.keys(legs).forEach(function (key) {
        legs[key].classList.toggle(className, key === id);
      });
    }

    window.CrossingsMap.get(element).then(function (handle) {
      var show = function (id) {
        handle.highlight(id);
        markTimeline(id, "is-highlighted");
      };
      var rest = function () {
        var video = document.querySelector("[data-journey-player] video");
        var playing = video && !video.paused && !video.ended && timeline.querySelector(".is-playing");
        if (playing) { show(playing.getAttribute("data-leg")); return; }
        if (selected) { show(selected); } else { handle.unhighlight(); markTimeline(null, "is-highlighted"); }
      };
      var select = function (id, fromMap) {
        selected = id;
        markTimeline(id, "is-selected");
        Object.keys(legs).forEach(function (key) {
          legs[key].setAttribute("aria-current", key === id ? "step" : "false");
        });
        show(id);
        if (fromMap && legs[id]) {
          legs[id].scrollIntoView({ block: "nearest", behavior: "smooth" });
        } else {
          handle.fit(id, { animate: true, maxZoom: 7 });
        }
      };

      Object.keys(legs).forEach(function (id) {
        var entry = legs[id];
        entry.addEventListener("mouseenter", function () { show(id); });
        entry.addEventListener("mouseleave", rest);
        entry.addEventListener("focusin", function () { show(id); });
        entry.addEventListener("focusout", rest);
        entry.addEventListener("click", function (event) {
          if (event.target.closest("a")) { return; }  // links go where they say
          select(id, false);
        });
        entry.addEventListener("keydown", function (event) {
          if ((event.key === "Enter" || event.key === " ") && event.target === entry) {
            event.preventDefault();
            select(id, false);
          }
        });
      });

      // A leg's footage plays beside the map; while it plays, its leg and crossing stay highlighted.
      var box = document.querySelector("[data-journey-player]");
      var video = box && box.querySelector("video");
      var playingLeg = null;
      if (video) {
        timeline.addEventListener("click", function (event) {
          var link = event.target.closest("a[data-play-src]");
          if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
            return;  // a new tab gets the item page
          }
          event.preventDefault();
          var entry = link.closest("[data-leg]");
          playingLeg = entry && entry.getAttribute("data-leg");
          box.hidden = false;
          box.querySelector("figcaption").textContent = link.getAttribute("data-play-title") || "";
          video.src = link.getAttribute("data-play-src");
          var start = parseFloat(link.getAttribute("data-play-start")) || 0;
          video.addEventListener("loadedmetadata", function () { video.currentTime = start; }, { once: true });
          var playing = video.play();
          if (playing && playing.catch) {
            playing.catch(function () { /* autoplay refused: the controls are there */ });
          }
          if (playingLeg) {
            handle.fit(playingLeg, { animate: true, maxZoom: 7 });
          }
        });
        video.addEventListener("play", function () {
          if (playingLeg) {
            show(playingLeg);
            markTimeline(playingLeg, "is-playing");
          }
        });
        ["pause", "ended"].forEach(function (name) {
          video.addEventListener(name, function () {
            markTimeline(null, "is-playing");
            rest();
          });
        });
      }

      element.addEventListener("crossingsmap:hover", function (event) {
        var id = event.detail.id;
        if (!id || !legs[id]) { return; }
        if (event.detail.active) { show(id); } else { rest(); }
      });
      element.addEventListener("crossingsmap:select", function (event) {
        var id = event.detail.id;
        if (id && legs[id]) { select(id, true); }
      });
    }).catch(function () { /* map.js has said why on the map itself */ });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
