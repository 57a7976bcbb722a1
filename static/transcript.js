// The transcript panel of the item page: the line being spoken is marked and kept in view inside the
// panel (the page itself does not move), a click on a line plays from there, and several transcripts
// become tabs whose choice the player's captions follow. Needs item.js (window.Crossings) first.
// Without script the panel is a plain list whose timecodes link to the page at that second.
(function () {
  "use strict";

  var section = document.getElementById("transcripts");
  var crossings = window.Crossings;
  if (!section || !crossings) {
    return;
  }
  var player = crossings.player;
  var panels = Array.prototype.slice.call(section.querySelectorAll("[data-transcript]"));
  var tabs = Array.prototype.slice.call(section.querySelectorAll("[data-transcript-tab]"));
  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  // After the reader scrolls a list by hand, it is left alone for a while before following again.
  var HANDS_OFF_MS = 4000;

  function linesOf(panel) {
    return Array.prototype.map.call(panel.querySelectorAll(".transcript-line"), function (element) {
      return { element: element, start: parseFloat(element.dataset.start) || 0,
               end: parseFloat(element.dataset.end) || 0 };
    });
  }

  var state = panels.map(function (panel) {
    return { panel: panel, id: panel.dataset.transcript, list: panel.querySelector(".transcript__lines"),
             lines: linesOf(panel), current: -1, touchedAt: 0 };
  });
  var shown = state[0];

  // Two transcripts side by side (templates/_transcripts.html): each column's cells are lines of their own,
  // marked at the same moment in both; the rows scroll together in one list.
  var pairBox = section.querySelector("[data-transcript-pair]");
  var pairRows = pairBox && pairBox.querySelector(".transcript-pair__rows");
  var pairEntries = pairRows ? ["left", "right"].map(function (side) {
    var cells = Array.prototype.filter.call(pairRows.querySelectorAll(".transcript-line"), function (cell) {
      return cell.dataset.side === side;
    });
    return { panel: pairBox, id: "pair-" + side, list: pairRows, current: -1, touchedAt: 0,
             lines: cells.map(function (element) {
               return { element: element, start: parseFloat(element.dataset.start) || 0,
                        end: parseFloat(element.dataset.end) || 0 };
             }) };
  }) : [];

  // -- the line being spoken -------------------------------------------------------------------

  // The last line that has started and not yet ended at `time` (lines are in time order); -1 if none.
  function lineAt(lines, time) {
    var low = 0;
    var high = lines.length - 1;
    var found = -1;
    while (low <= high) {
      var middle = (low + high) >> 1;
      if (lines[middle].start <= time) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    // Overlapping lines: an earlier one may still be running when the last started one has ended.
    for (var i = found; i >= 0 && i > found - 5; i -= 1) {
      if (time < lines[i].end) {
        return i;
      }
    }
    return -1;
  }

  function keepInView(entry, element) {
    var list = entry.list;
    if (!list || Date.now() - entry.touchedAt < HANDS_OFF_MS || list.scrollHeight <= list.clientHeight) {
      return;
    }
    var top = element.offsetTop;
    var bottom = top + element.offsetHeight;
    if (top >= list.scrollTop && bottom <= list.scrollTop + list.clientHeight) {
      return;
    }
    // Scroll the list only (scrollIntoView would move the page too), the line a third of the way down.
    var target = Math.max(0, top - list.clientHeight / 3);
    if (list.scrollTo && !reducedMotion) {
      list.scrollTo({ top: target, behavior: "smooth" });
    } else {
      list.scrollTop = target;
    }
  }

  function mark(entry, force) {
    if (!entry) {
      return;
    }
    var index = lineAt(entry.lines, player.currentTime);
    if (index === entry.current && !force) {
      return;
    }
    if (entry.current >= 0 && entry.lines[entry.current]) {
      var before = entry.lines[entry.current].element;
      before.classList.remove("transcript-line--current");
      before.removeAttribute("aria-current");
    }
    entry.current = index;
    if (index >= 0) {
      var line = entry.lines[index].element;
      line.classList.add("transcript-line--current");
      line.setAttribute("aria-current", "time");
      keepInView(entry, line);
    }
  }

  // timeupdate comes about four times a second; while playing, each frame keeps the mark exact.
  var frame = 0;
  function markAll(force) {
    mark(shown, force);
    pairEntries.forEach(function (entry) { mark(entry, force); });
  }
  function follow() {
    markAll();
    frame = player.paused || player.ended ? 0 : window.requestAnimationFrame(follow);
  }
  player.addEventListener("play", function () {
    if (!frame) {
      frame = window.requestAnimationFrame(follow);
    }
  });
  ["timeupdate", "seeked", "loadedmetadata"].forEach(function (name) {
    player.addEventListener(name, function () { markAll(); });
  });

  state.concat(pairEntries).forEach(function (entry) {
    if (!entry.list) {
      return;
    }
    ["wheel", "touchstart", "keydown"].forEach(function (name) {
      entry.list.addEventListener(name, function () { entry.touchedAt = Date.now(); }, { passive: true });
    });
  });

  // -- a click on a line plays from its start ----------------------------------------------------

  section.addEventListener("click", function (event) {
    var line = event.target.closest(".transcript-line");
    if (!line || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;  // a new tab or window gets the timecode's link itself
    }
    var link = event.target.closest("a");
    if (link && !link.classList.contains("transcript-line__time")) {
      return;
    }
    var selection = window.getSelection && window.getSelection();
    if (!link && selection && !selection.isCollapsed && line.contains(selection.anchorNode)) {
      return;  // selecting text to copy it, not asking to play
    }
    event.preventDefault();
    state.concat(pairEntries).forEach(function (entry) {
      if (entry.panel.contains(line)) {
        entry.touchedAt = 0;
      }
    });
    crossings.seek(parseFloat(line.dataset.start) || 0, true);
    var box = player.getBoundingClientRect();
    if (box.bottom < 0 || box.top > window.innerHeight) {
      player.scrollIntoView({ block: "center" });
    }
  });

  // A refused upload comes back with its form open, far below the top of the page: go to the message.
  // Focused again at the load event: under load Chromium can take an earlier focus back (see item.js).
  var refused = section.querySelector(".transcript-upload[open] [aria-invalid='true']");
  if (refused) {
    refused.focus();
    if (document.readyState !== "complete") {
      window.addEventListener("load", function () { refused.focus(); }, { once: true });
    }
  }


  // -- several transcripts: tabs, and the captions follow the choice ---------------------------------

  function trackOf(entry) {
    var element = document.getElementById("track-" + entry.id);
    return element && element.track;
  }

  function isCaption(track) {
    return track && (track.kind === "captions" || track.kind === "subtitles");
  }

  // `opening`: the page has just loaded, when the default track may not be showing yet; it will be.
  function followWithCaptions(entry, opening) {
    var chosen = trackOf(entry);
    if (!isCaption(chosen)) {
      return;
    }
    var tracks = Array.prototype.slice.call(player.textTracks || []);
    var captionsOn = tracks.some(function (track) { return isCaption(track) && track.mode === "showing"; }) ||
      Boolean(opening && player.querySelector("track[default]"));
    if (!captionsOn) {
      return;  // captions switched off by the viewer stay off
    }
    tracks.forEach(function (track) {
      if (isCaption(track) && track !== chosen) {
        track.mode = "disabled";
      }
    });
    chosen.mode = "showing";
  }

  function select(entry, options) {
    shown = entry;
    state.forEach(function (other, index) {
      var selected = other === entry;
      other.panel.hidden = !selected;
      var tab = tabs[index];
      if (tab) {
        tab.setAttribute("aria-selected", selected ? "true" : "false");
        tab.tabIndex = selected ? 0 : -1;
      }
    });
    if (options.captions) {
      followWithCaptions(entry, options.opening);
    }
    markAll(true);
    if (options.focus && tabs.length) {
      tabs[state.indexOf(entry)].focus();
    }
  }

  // #transcript-ID, or ?transcript=ID (a search hit's link, whose fragment is #player).
  function fromHash() {
    var match = /^#transcript-(\d+)$/.exec(window.location.hash);
    var id = match ? match[1] : new URLSearchParams(window.location.search).get("transcript");
    return id ? state.filter(function (entry) { return entry.id === id; })[0] || null : null;
  }

  if (tabs.length > 1 && tabs.length === state.length) {
    section.classList.add("transcripts--tabs");
    var list = tabs[0].closest("ul");
    list.setAttribute("role", "tablist");
    list.setAttribute("aria-label", section.querySelector(".transcripts__switch").getAttribute("aria-label"));
    tabs.forEach(function (tab, index) {
      var entry = state[index];
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-controls", entry.panel.id);
      tab.id = "transcript-tab-" + entry.id;
      tab.parentNode.setAttribute("role", "presentation");
      entry.panel.setAttribute("role", "tabpanel");
      entry.panel.setAttribute("aria-labelledby", tab.id);
      tab.addEventListener("click", function (event) {
        event.preventDefault();
        select(entry, { captions: true });
      });
      tab.addEventListener("keydown", function (event) {
        var next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: state.length - 1 }[event.key];
        if (next === undefined) {
          return;
        }
        event.preventDefault();
        select(state[(next + state.length) % state.length], { captions: true, focus: true });
      });
    });
    // A link that names a transcript (a search hit's) switches the captions to it as well.
    var linked = fromHash();
    select(linked || state[0], { captions: Boolean(linked), opening: true });
    window.addEventListener("hashchange", function () {
      var entry = fromHash();
      if (entry) {
        select(entry, { captions: true });
      }
    });
  } else {
    markAll(true);
  }

  // -- the public's choice of pair, kept in this browser (a signed-in reader's is kept on the account) --

  var pairForm = section.querySelector("[data-transcript-pair-form]");
  if (pairForm && !("signedIn" in section.dataset)) {
    var key = "crossings:transcript-pair:" + section.dataset.item;
    var params = new URLSearchParams(window.location.search);
    var storage = null;
    try {
      storage = window.localStorage;
    } catch (refused) { /* storage switched off: the choice lasts as long as the link */ }
    if (storage && (params.has("left") || params.has("right"))) {
      if (pairBox) {
        storage.setItem(key, pairBox.dataset.transcriptPair);
      } else {
        storage.removeItem(key);
      }
    } else if (storage && !pairBox) {
      var kept = (storage.getItem(key) || "").split(",");
      var offered = Array.prototype.map.call(pairForm.querySelectorAll("#pair-left option"), function (option) {
        return option.value;
      });
      if (kept.length === 2 && kept[0] !== kept[1] && kept.every(function (id) { return offered.indexOf(id) >= 0; })) {
        params.set("left", kept[0]);
        params.set("right", kept[1]);
        window.location.replace(window.location.pathname + "?" + params.toString() + (window.location.hash || "#transcripts"));
      }
    }
  }
}());
