// "Link to this moment" and "Cite this clip" on the item page (templates/_clip_tools.html): Set in / Set
// out copy the player's position into the form, selecting transcript lines takes in and out from them,
// and "Link to this moment" shows (and copies) the link on the item's identifier instead of leaving the
// page. Needs item.js (window.Crossings). Without script the form opens the citation page.
(function () {
  "use strict";

  var section = document.getElementById("clip-tools");
  var crossings = window.Crossings;
  if (!section || !crossings) {
    return;
  }
  var form = section.querySelector("form");
  var startField = form.elements.namedItem("start");
  var endField = form.elements.namedItem("end");
  var result = section.querySelector("[data-clip-result]");
  var output = result.querySelector("input");
  var copied = result.querySelector("[data-clip-copied]");

  Array.prototype.forEach.call(section.querySelectorAll("[data-clip-mark]"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var field = button.dataset.clipMark === "start" ? startField : endField;
      field.value = crossings.formatTimecode(crossings.player.currentTime, 2);
    });
  });

  // A selection across transcript lines: in at the first line's start, out at the last line's end.
  document.addEventListener("selectionchange", function () {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) {
      return;
    }
    var range = selection.getRangeAt(0);
    var line = function (node) {
      var element = node.nodeType === 1 ? node : node.parentElement;
      return element && element.closest(".transcript-line[data-start]");
    };
    var first = line(range.startContainer);
    var last = line(range.endContainer);
    if (!first || !last) {
      return;
    }
    startField.value = crossings.formatTimecode(parseFloat(first.dataset.start) || 0, 2);
    endField.value = crossings.formatTimecode(parseFloat(last.dataset.end) || 0, 2);
  });

  // The t= value: seconds, as short as they come ("75,90.5").
  function seconds(value) {
    return String(Math.round(value * 1000) / 1000);
  }

  section.querySelector("[data-clip-link]").addEventListener("click", function (event) {
    var start = crossings.parseTimecode(startField.value);
    var end = crossings.parseTimecode(endField.value);
    if (start === null || end === null || end <= start) {
      return;  // the citation page says what is wrong with the times
    }
    event.preventDefault();
    // The page gives the link as a path unless the archive has a public address; a copied link needs a host.
    output.value = new URL(section.dataset.momentBase, document.baseURI).href + "?t=" + seconds(start) + "," + seconds(end);
    result.hidden = false;
    output.focus();
    output.select();
    copied.textContent = "";
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(output.value).then(function () {
        copied.textContent = "Copied.";
      }, function () { /* not allowed here: the link stays selected to copy by hand */ });
    }
  });
}());
