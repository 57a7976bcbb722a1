// Item page: the player starts where a link says (?t= or #t=), and storyboard frames seek it.
// Loaded as a file (no inline script) for a strict CSP. Other scripts of the page (ranges.js)
// use window.Crossings, so this one comes first.
(function () {
  "use strict";

  var player = document.querySelector("[data-player]");
  if (!player || !player.play) {
    return;
  }

  // Seconds from "75.5", "1:15.5" or "0:01:15.5" (the forms archive/timecode.py reads); null otherwise.
  function parseTimecode(text) {
    var match = /^(?:(?:(\d+):)?(\d+):)?(\d+(?:[.,]\d*)?|[.,]\d+)$/.exec(String(text || "").trim());
    if (!match) {
      return null;
    }
    var seconds = parseFloat(match[3].replace(",", "."));
    if ((match[2] !== undefined && seconds >= 60) || (match[1] !== undefined && parseInt(match[2], 10) >= 60)) {
      return null;
    }
    return parseInt(match[1] || "0", 10) * 3600 + parseInt(match[2] || "0", 10) * 60 + seconds;
  }

  // H:MM:SS with `places` decimals, trailing zeros dropped down to one (as format_timecode writes it).
  function formatTimecode(seconds, places) {
    var scale = Math.pow(10, places === undefined ? 1 : places);
    var units = Math.round(Math.max(0, seconds) * scale);
    var whole = Math.floor(units / scale);
    var fraction = String(units - whole * scale);
    while (fraction.length < String(scale).length - 1) {
      fraction = "0" + fraction;
    }
    fraction = fraction.replace(/0+$/, "") || "0";
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    return Math.floor(whole / 3600) + ":" + two(Math.floor(whole / 60) % 60) + ":" + two(whole % 60) + "." + fraction;
  }

  function whenReady(action) {
    if (player.readyState >= 1) {
      action();
    } else {
      player.addEventListener("loadedmetadata", action, { once: true });
    }
  }

  // Move the player to `time` and, when `play` is true, play from there.
  function seek(time, play) {
    var go = function () {
      player.currentTime = time;
      if (play) {
        var playing = player.play();
        if (playing && playing.catch) {
          playing.catch(function () { /* autoplay refused: the position is still set */ });
        }
      }
    };
    if (player.readyState < 1 && play) {
      player.load();
    }
    whenReady(go);
  }

  // ?t=75, ?t=1:15, ?t=0:01:15 or a media fragment #t=75 (#t=npt:75,90 too): the time to start at.
  function linkedTime() {
    var fragment = /(?:^#|&)t=(?:npt:)?([^&,]*)/.exec(window.location.hash);
    var text = fragment ? decodeURIComponent(fragment[1]) : new URLSearchParams(window.location.search).get("t");
    return text === null ? null : parseTimecode(text);
  }

  function startFromLink() {
    var time = linkedTime();
    if (time !== null) {
      seek(time, false);
    }
  }

  window.Crossings = { player: player, seek: seek, parseTimecode: parseTimecode, formatTimecode: formatTimecode };
  startFromLink();
  // A link to #player (a search hit's, a transcript line's) means "play this": the keyboard starts there too.
  // Not before the load event: focused earlier, Chromium takes the focus back (scrolling to the fragment).
  if (window.location.hash === "#player") {
    var focusPlayer = function () { player.focus({ preventScroll: true }); };
    if (document.readyState === "complete") {
      focusPlayer();
    } else {
      window.addEventListener("load", focusPlayer, { once: true });
    }
  }
  window.addEventListener("hashchange", startFromLink);

  // -- storyboard: frames seek the player, and the frame whose stretch is playing is marked --
  var buttons = Array.prototype.slice.call(document.querySelectorAll(".storyboard [data-seek]"));
  if (!buttons.length) {
    return;
  }
  document.documentElement.classList.add("js-storyboard");

  var times = buttons.map(function (button) { return parseFloat(button.dataset.seek) || 0; });

  buttons.forEach(function (button, index) {
    button.addEventListener("click", function () { seek(times[index], true); });
  });

  player.addEventListener("timeupdate", function () {
    var current = 0;
    for (var i = 0; i < times.length; i += 1) {
      if (player.currentTime + 0.05 >= times[i]) {
        current = i;
      }
    }
    buttons.forEach(function (button, index) {
      if (index === current) {
        button.setAttribute("aria-current", "true");
      } else {
        button.removeAttribute("aria-current");
      }
    });
  });
}());
