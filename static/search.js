// The search page: choosing another sort order searches again at once (without JavaScript the
// Search button does it), and empty date fields stay out of the address. Loaded as a file, for
// the strict CSP.
(function () {
  "use strict";

  var sort = document.getElementById("search-sort");
  if (!sort || !sort.form) {
    return;
  }
  var form = sort.form;
  var dates = [document.getElementById("search-from"), document.getElementById("search-to")].filter(Boolean);
  form.addEventListener("submit", function () {
    dates.forEach(function (input) {
      input.disabled = !input.value.trim();  // disabled fields are not sent
    });
  });
  window.addEventListener("pageshow", function () {  // coming back: the fields work again
    dates.forEach(function (input) {
      input.disabled = false;
    });
  });
  sort.addEventListener("change", function () {
    if (form.requestSubmit) {
      form.requestSubmit();
    } else {
      form.dispatchEvent(new Event("submit", {cancelable: true}));
      form.submit();
    }
  });
}());
