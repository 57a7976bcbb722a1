// Item page: the player starts where a link says (?t= or #t=; ?t=START,END plays that span and stops),
// and storyboard frames seek it.
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

  // ?t=75, ?t=1:15, ?t=0:01:15 or a media fragment #t=75 (#t=npt:75,90 too): the span to play, as
  // {start, end} (end null when only a start is given); null without one or when it does not read.
  function linkedSpan() {
    var fragment = /(?:^#|&)t=(?:npt:)?([^&]*)/.exec(window.location.hash);
    var text = fragment ? decodeURIComponent(fragment[1]) : new URLSearchParams(window.location.search).get("t");
    if (text === null) {
      return null;
    }
    var parts = text.replace(/^npt:/, "").split(",");
    var start = parts[0] === "" ? 0 : parseTimecode(parts[0]);
    var end = parts.length > 1 && parts[1] !== "" ? parseTimecode(parts[1]) : null;
    if (start === null || parts.length > 2 || (parts.length > 1 && parts[1] !== "" && (end === null || end <= start))) {
      return null;
    }
    return { start: start, end: end };
  }

  // Pause at `end` exactly: timeupdate comes about four times a second, so the last stretch is timed.
  var stopAt = null;
  var stopTimer = null;
  function stopAtEnd() {
    if (stopAt === null) {
      return;
    }
    var left = stopAt - player.currentTime;
    if (left <= 0.02) {
      player.pause();
      player.currentTime = stopAt;
      stopAt = null;
      player.dispatchEvent(new CustomEvent("crossings:spanend"));
    } else if (left < 0.35 && stopTimer === null && !player.paused) {
      stopTimer = window.setTimeout(function () { stopTimer = null; stopAtEnd(); },
        (left * 1000) / (player.playbackRate || 1));
    }
  }
  player.addEventListener("timeupdate", stopAtEnd);
  // Moving elsewhere by hand (seeking before the span or past it) ends the span: the viewer goes on.
  player.addEventListener("seeking", function () {
    if (stopAt !== null && (player.currentTime > stopAt + 0.05 || player.currentTime < spanStart - 0.05)) {
      stopAt = null;
    }
  });
  var spanStart = 0;

  // Play `start` to `end` (seconds) and stop there.
  function playSpan(start, end) {
    spanStart = start;
    stopAt = null;
    seek(start, true);
    whenReady(function () { stopAt = end; });
  }

  function startFromLink() {
    var span = linkedSpan();
    if (span === null) {
      return;
    }
    if (span.end === null) {
      seek(span.start, false);
    } else {
      playSpan(span.start, span.end);
    }
  }

  window.Crossings = { player: player, seek: seek, playSpan: playSpan, parseTimecode: parseTimecode,
                       formatTimecode: formatTimecode };
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
