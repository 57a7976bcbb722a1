// Browse page, for archivists: select all on the page, count the selection, shift-click a range,
// and keep the bulk bar's button off until something is selected. Without it the form still works.
(function () {
  "use strict";

  var form = document.querySelector("form[data-bulk]");
  if (!form) {
    return;
  }
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input[data-bulk-item]"));
  var all = form.querySelector("input[data-bulk-all]");
  var count = form.querySelector("[data-bulk-count]");
  var submit = form.querySelector("[data-bulk-submit]");
  var last = null;

  function update() {
    var checked = boxes.filter(function (box) { return box.checked; }).length;
    count.textContent = checked === 0 ? "No items selected"
      : checked + (checked === 1 ? " item selected" : " items selected");
    submit.disabled = checked === 0;
    all.checked = checked > 0 && checked === boxes.length;
    all.indeterminate = checked > 0 && checked < boxes.length;
    boxes.forEach(function (box) {
      box.closest(".card").classList.toggle("card--selected", box.checked);
    });
  }

  all.closest("label").hidden = false;
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
    update();
  });

  boxes.forEach(function (box, index) {
    box.addEventListener("click", function (event) {
      // Shift-click ticks (or unticks) every box between the last one clicked and this one.
      if (event.shiftKey && last !== null && last !== index) {
        var from = Math.min(last, index);
        var to = Math.max(last, index);
        for (var i = from; i <= to; i += 1) {
          boxes[i].checked = box.checked;
        }
      }
      last = index;
    });
    box.addEventListener("change", update);
  });

  form.addEventListener("submit", function (event) {
    if (!boxes.some(function (box) { return box.checked; })) {
      event.preventDefault();
    }
  });

  update();
}());
