// Upload page: send the files with a progress bar and show the per-file results without leaving
// the page. Without this script the form posts as usual and the server renders the same results.
(function () {
  "use strict";

  var form = document.querySelector("form[data-upload]");
  if (!form || !window.FormData || !window.XMLHttpRequest) {
    return;
  }
  var progressBox = form.querySelector("[data-upload-progress]");
  var bar = progressBox.querySelector("progress");
  var status = form.querySelector("[data-upload-status]");
  var errorBox = form.querySelector("[data-upload-error]");
  var submit = form.querySelector("[data-upload-submit]");
  var fileInput = form.querySelector("input[type=file]");
  var results = document.querySelector("[data-upload-results]");

  function sizeText(bytes) {
    var units = ["bytes", "kB", "MB", "GB", "TB"];
    var value = bytes;
    var unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
      value /= 1000;
      unit += 1;
    }
    return unit === 0 ? bytes + " bytes" : value.toFixed(1) + " " + units[unit];
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    return node;
  }

  function link(href, text) {
    var a = element("a", "", text);
    a.href = href;
    return a;
  }

  // Messages beside their fields, as the server renders them on a refused form.
  function showFieldErrors(errors) {
    Array.prototype.forEach.call(form.querySelectorAll(".field__error[data-from-script]"), function (node) {
      node.closest(".field").classList.remove("field--error");
      node.remove();
    });
    var unplaced = [];
    Object.keys(errors).forEach(function (name) {
      var input = form.querySelector("[name='" + name + "']");
      var field = input && input.closest(".field");
      if (!field) {
        unplaced.push(errors[name]);
        return;
      }
      field.classList.add("field--error");
      var message = element("p", "field__error", errors[name]);
      message.setAttribute("data-from-script", "");
      input.insertAdjacentElement("afterend", message);
    });
    showError(unplaced.join(" "));
  }

  function showError(text) {
    errorBox.textContent = text || "";
    errorBox.hidden = !text;
  }

  function row(kind, outcome, name, detail) {
    var li = element("li", "upload-list__row upload-list__row--" + kind);
    li.appendChild(element("span", "upload-list__outcome", outcome));
    li.appendChild(element("span", "upload-list__name", name));
    var cell = element("span", "upload-list__detail");
    detail.forEach(function (part) {
      cell.appendChild(typeof part === "string" ? document.createTextNode(part) : part);
    });
    li.appendChild(cell);
    return li;
  }

  function showResults(data) {
    results.textContent = "";
    results.appendChild(element("h2", "", "Results"));
    var summary = element("p", "upload-results__summary");
    summary.appendChild(element("span", "tally tally--ok", data.ingested.length + " ingested"));
    summary.appendChild(element("span", "tally tally--dup", data.duplicates.length + " already in the archive"));
    summary.appendChild(element("span", "tally tally--failed", data.failed.length + " failed"));
    results.appendChild(summary);
    var list = element("ul", "upload-list");
    list.setAttribute("role", "list");
    data.ingested.forEach(function (entry) {
      list.appendChild(row("ok", "Ingested", entry.name, entry.url
        ? [link(entry.url, entry.title), " · ", link(entry.edit_url, "Edit")]
        : ["Its access level hides it from you."]));
    });
    data.duplicates.forEach(function (entry) {
      list.appendChild(row("dup", "Duplicate", entry.name, entry.url
        ? ["Already in the archive as ", link(entry.url, entry.title)]
        : ["Already in the archive, in an item you may not see."]));
    });
    data.failed.forEach(function (entry) {
      list.appendChild(row("failed", "Failed", entry.name, [entry.reason]));
    });
    results.appendChild(list);
    results.hidden = false;
  }

  function finish() {
    submit.disabled = false;
    progressBox.hidden = true;
  }

  fileInput.addEventListener("change", function () {
    var files = Array.prototype.slice.call(fileInput.files);
    var total = files.reduce(function (sum, file) { return sum + file.size; }, 0);
    status.textContent = files.length ? files.length + (files.length === 1 ? " file, " : " files, ") + sizeText(total) : "";
    progressBox.hidden = !files.length;
    bar.value = 0;
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(form);
    var count = fileInput.files.length;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "text";

    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round((e.loaded / e.total) * 100);
        status.textContent = "Sending: " + sizeText(e.loaded) + " of " + sizeText(e.total);
      }
    });
    xhr.upload.addEventListener("load", function () {
      bar.removeAttribute("value");  // indeterminate while the server ingests
      status.textContent = "Sent. Ingesting " + count + (count === 1 ? " file" : " files") +
        " (thumbnails of long footage take a while)…";
    });
    xhr.addEventListener("load", function () {
      finish();
      var body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch (ignored) {
        body = null;
      }
      if (xhr.status === 200 && body) {
        showFieldErrors({});
        showResults(body);
        fileInput.value = "";
        status.textContent = "";
        results.scrollIntoView({ behavior: "smooth", block: "start" });
      } else if (xhr.status === 400 && body && body.errors) {
        showFieldErrors(body.errors);
      } else if (xhr.status === 400) {
        showError("The upload was refused (the form may have expired). Reload the page and try again.");
      } else if (xhr.status === 413) {
        showError("The upload is larger than the server accepts.");
      } else {
        showError("The upload failed (" + xhr.status + " " + xhr.statusText + ").");
      }
    });
    xhr.addEventListener("error", function () {
      finish();
      showError("The upload failed: the connection to the server broke.");
    });

    showError("");
    submit.disabled = true;
    progressBox.hidden = false;
    bar.value = 0;
    status.textContent = "Starting…";
    xhr.send(data);
  });
}());
