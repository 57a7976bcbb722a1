// A form with data-confirm="Question?" asks before it is sent; answering no sends nothing.
// Every page loads it (base.html): deleting a range, a transcript or an account all ask the same way.
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
