// Edit pages: before leaving with changes not saved in one of the page's forms, the browser asks
// whether to leave ("beforeunload"). Submitting a form forgets its own changes, not the others':
// typing a title and then pressing another form's button still asks. A form shown again after a
// refusal holds what was typed and not saved, so it counts as changed from the start.
// Loaded by the editing templates; a form with data-unsaved-ignore is left out.
(function () {
  "use strict";

  var QUIET_TYPES = ["hidden", "submit", "button", "reset", "image"];
  var submitting = null;

  function fieldsOf(form) {
    // form.elements includes the fields outside the form that name it with form="..."
    return Array.prototype.filter.call(form.elements, function (field) {
      return field.name && !field.disabled && QUIET_TYPES.indexOf(field.type) < 0 && field.tagName !== "FIELDSET";
    });
  }

  function changed(field) {
    if (field.type === "checkbox" || field.type === "radio") {
      return field.checked !== field.defaultChecked;
    }
    if (field.tagName === "SELECT") {
      var options = Array.prototype.slice.call(field.options);
      var marked = options.some(function (option) { return option.defaultSelected; });
      return options.some(function (option, index) {
        // With no option marked selected, the first (of a single choice) is the default.
        var initial = marked ? option.defaultSelected : (!field.multiple && index === 0);
        return option.selected !== initial;
      });
    }
    if (field.type === "file") {
      return field.value !== "";
    }
    return field.value !== field.defaultValue;
  }

  function refused(form, fields) {
    return form.hasAttribute("data-refused") || Boolean(form.querySelector(".form-error, .field__error"))
      || fields.some(function (field) { return field.getAttribute("aria-invalid") === "true"; });
  }

  var forms = Array.prototype.filter.call(document.querySelectorAll("form"), function (form) {
    return (form.getAttribute("method") || "").toLowerCase() === "post" && !form.hasAttribute("data-unsaved-ignore")
      && fieldsOf(form).length > 0;
  });
  var refusedForms = forms.filter(function (form) { return refused(form, fieldsOf(form)); });

  function unsaved(form) {
    return refusedForms.indexOf(form) >= 0 || fieldsOf(form).some(changed);
  }

  // Listening on the document, after the forms' own listeners: a submit they cancelled (a
  // confirmation answered no) is not a save.
  document.addEventListener("submit", function (event) {
    if (!event.defaultPrevented) {
      submitting = event.target;
    }
  });

  window.addEventListener("pageshow", function () {
    submitting = null;  // back from the next page (bfcache): nothing is being sent any more
  });

  window.addEventListener("beforeunload", function (event) {
    var left = forms.some(function (form) { return form !== submitting && unsaved(form); });
    if (left) {
      event.preventDefault();
      event.returnValue = "";  // what older browsers need to ask
    }
  });
}());
