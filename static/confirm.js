// A form with data-confirm="Question?" asks before it is sent; answering no sends nothing.
// For pages with no script of their own (the item page's scripts handle their own forms).
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
}());
