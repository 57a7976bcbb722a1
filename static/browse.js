// Browse: on a phone the facets start folded, so that the items come first; the page works without this.
(function () {
  "use strict";
  var facets = document.querySelector("[data-browse-facets]");
  if (facets && window.matchMedia("(max-width: 760px)").matches) {
    facets.open = false;
  }
})();
