// A clip list's page: "Play all in sequence" plays each clip's span in the one player, and goes on to the
// next clip when one ends; a clip's title still links to its item page at that span. The playlist (the
// clips the reader may see, with what they may play) is in the player's data-playlist.
(function () {
  "use strict";

  var player = document.querySelector("[data-clip-player]");
  var button = document.querySelector("[data-play-all]");
  var now = document.querySelector("[data-clip-now]");
  if (!player || !button) {
    return;
  }
  var playlist = JSON.parse(player.dataset.playlist || "[]");
  if (!playlist.length) {
    player.hidden = true;
    return;
  }
  var current = -1;
  var stopTimer = null;

  function mark(index) {
    Array.prototype.forEach.call(document.querySelectorAll("[data-clip-id]"), function (element) {
      var playing = index >= 0 && element.dataset.clipId === String(playlist[index].id);
      element.classList.toggle("clip--playing", playing);
      if (playing) {
        element.setAttribute("aria-current", "true");
      } else {
        element.removeAttribute("aria-current");
      }
    });
  }

  function play(index) {
    current = index;
    if (index >= playlist.length) {
      current = -1;
      mark(-1);
      now.textContent = "The list has played to its end.";
      player.pause();
      return;
    }
    var clip = playlist[index];
    mark(index);
    now.textContent = "Playing " + (index + 1) + " of " + playlist.length + ": " + clip.title;
    var begin = function () {
      player.currentTime = clip.start;
      var playing = player.play();
      if (playing && playing.catch) {
        playing.catch(function () { /* refused: the viewer presses play */ });
      }
    };
    if (player.getAttribute("src") !== clip.src) {
      player.setAttribute("src", clip.src);
      player.addEventListener("loadedmetadata", begin, { once: true });
      player.load();
    } else {
      begin();
    }
  }

  // Each clip ends at its out, timed closely in its last stretch, and the next one starts.
  function check() {
    if (current < 0) {
      return;
    }
    var left = playlist[current].end - player.currentTime;
    if (left <= 0.02) {
      window.clearTimeout(stopTimer);
      stopTimer = null;
      player.pause();
      play(current + 1);
    } else if (left < 0.35 && stopTimer === null && !player.paused) {
      stopTimer = window.setTimeout(function () { stopTimer = null; check(); }, (left * 1000) / (player.playbackRate || 1));
    }
  }
  player.addEventListener("timeupdate", check);
  player.addEventListener("ended", function () {
    if (current >= 0) {
      play(current + 1);
    }
  });

  player.setAttribute("src", playlist[0].src);
  button.hidden = false;
  button.addEventListener("click", function () { play(0); });
}());
