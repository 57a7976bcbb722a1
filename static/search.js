// The search page: choosing another sort order searches again at once (without JavaScript the
// Search button does it). Loaded as a file, for the strict CSP.
(function () {
  "use strict";

  var sort = document.getElementById("search-sort");
  if (!sort || !sort.form) {
    return;
  }
  sort.addEventListener("change", function () {
    if (sort.form.requestSubmit) {
      sort.form.requestSubmit();
    } else {
      sort.form.submit();
    }
  });
}());
