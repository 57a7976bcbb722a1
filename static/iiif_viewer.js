// Opens the page's manifest in Mirador (served from /static/vendor/mirador/, see archive/web/vendor.py).
(function () {
  "use strict";
  var holder = document.getElementById("iiif-viewer");
  if (!holder || !window.Mirador) { return; }
  window.crossingsMirador = window.Mirador.viewer({
    id: "iiif-viewer",
    windows: [{ manifestId: holder.dataset.manifest }],
    window: { allowClose: false, allowMaximize: false, defaultSideBarPanel: "info", sideBarOpenByDefault: false },
    workspace: { showZoomControls: true },
    workspaceControlPanel: { enabled: false }
  });
})();
