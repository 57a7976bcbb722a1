// Time ranges on the item page: "Mark in" / "Mark out" copy the player's position into a form,
// a range's timecode seeks the player without leaving the page, and the ranges playing are marked.
// Needs item.js (window.Crossings) first. Without script the fields are typed and the links load
// the page at the range's start.
(function () {
  "use strict";

  var section = document.getElementById("ranges");
  var crossings = window.Crossings;
  if (!section || !crossings) {
    return;
  }
  var player = crossings.player;

  Array.prototype.forEach.call(section.querySelectorAll("[data-mark]"), function (button) {
    var form = button.closest("form");
    var input = form && form.elements.namedItem(button.dataset.mark);
    if (!input) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      input.value = crossings.formatTimecode(player.currentTime, 2);
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });

  Array.prototype.forEach.call(section.querySelectorAll("[data-seek-to]"), function (link) {
    link.addEventListener("click", function (event) {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
        return;  // a new tab or window gets the link itself
      }
      event.preventDefault();
      crossings.seek(parseFloat(link.dataset.seekTo) || 0, true);
      var box = player.getBoundingClientRect();
      if (box.bottom < 0 || box.top > window.innerHeight) {
        player.scrollIntoView({ block: "center" });
      }
    });
  });

  var items = Array.prototype.slice.call(section.querySelectorAll("[data-range-start]"));
  if (items.length) {
    player.addEventListener("timeupdate", function () {
      var now = player.currentTime;
      items.forEach(function (item) {
        var playing = now >= parseFloat(item.dataset.rangeStart) && now < parseFloat(item.dataset.rangeEnd);
        item.classList.toggle("range--playing", playing);
      });
    });
  }

}());
