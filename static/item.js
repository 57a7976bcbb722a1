// Item page: storyboard frames seek the player. Loaded as a file (no inline script) for a strict CSP.
(function () {
  "use strict";

  var player = document.querySelector("[data-player]");
  var buttons = Array.prototype.slice.call(document.querySelectorAll("[data-seek]"));
  if (!player || !buttons.length) {
    return;
  }
  document.documentElement.classList.add("js-storyboard");

  function seek(time) {
    var go = function () {
      player.currentTime = time;
      var playing = player.play();
      if (playing && playing.catch) {
        playing.catch(function () { /* autoplay refused: the position is still set */ });
      }
    };
    if (player.readyState >= 1) {
      go();
    } else {
      player.addEventListener("loadedmetadata", go, { once: true });
      player.load();
    }
  }

  var times = buttons.map(function (button) { return parseFloat(button.dataset.seek) || 0; });

  buttons.forEach(function (button, index) {
    button.addEventListener("click", function () { seek(times[index]); });
  });

  // Mark the frame whose stretch of footage is playing.
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
