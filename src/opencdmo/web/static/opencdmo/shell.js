// The shell's few behaviours: dropdown groups, the phone menu, back links, copy-to-clipboard
// and the progress of a file upload.
(function () {
  "use strict";
  var groups = function () { return document.querySelectorAll("[data-nav-group] > button"); };

  function setOpen(button, open) {
    var panel = document.getElementById(button.getAttribute("aria-controls"));
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (panel) { panel.hidden = !open; }
  }

  function closeGroups(except) {
    groups().forEach(function (b) { if (b !== except) { setOpen(b, false); } });
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-back]") && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
      return;
    }
    var button = event.target.closest("[data-nav-group] > button, [data-menu-toggle], [data-copy]");
    if (!button) {
      if (!event.target.closest("[data-nav-group]")) { closeGroups(null); }
      return;
    }
    if (button.hasAttribute("data-copy")) {
      copy(button);
    } else if (button.hasAttribute("data-menu-toggle")) {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      document.getElementById(button.getAttribute("aria-controls")).classList.toggle("open", open);
    } else {
      closeGroups(button);
      setOpen(button, button.getAttribute("aria-expanded") !== "true");
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var group = event.target.closest && event.target.closest("[data-nav-group]");
    closeGroups(null);
    if (group) { group.querySelector("button").focus(); }
  });

  document.addEventListener("focusout", function (event) {
    var group = event.target.closest && event.target.closest("[data-nav-group]");
    if (group && !(event.relatedTarget && group.contains(event.relatedTarget))) {
      setOpen(group.querySelector("button"), false);
    }
  });

  // A form marked data-upload-progress sends its file with the upload's progress on the page;
  // the server answers 204 with the page to open next in X-Location.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest && event.target.closest("form[data-upload-progress]");
    if (!form || !window.FormData) { return; }
    event.preventDefault();
    var bar = form.querySelector("progress");
    var status = form.querySelector("[data-upload-status]");
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-Upload-Progress", "1");
    request.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) { return; }
      bar.hidden = false;
      bar.max = e.total;
      bar.value = e.loaded;
      status.textContent = "Uploading: " + Math.round(100 * e.loaded / e.total) + " % of " +
        (e.total / 1048576).toFixed(1) + " MB";
    });
    request.upload.addEventListener("load", function () {
      bar.hidden = false;
      bar.removeAttribute("value");
      status.textContent = "Uploaded; checking and storing the values…";
    });
    request.addEventListener("load", function () {
      window.location.assign(request.getResponseHeader("X-Location") || window.location.href);
    });
    request.addEventListener("error", function () {
      form.querySelector("button[type=submit]").disabled = false;
      status.textContent = "The upload failed: the connection was lost. Nothing was stored; try again.";
    });
    form.querySelector("button[type=submit]").disabled = true;
    request.send(new FormData(form));
  });

  function copy(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    var text = source.textContent.trim();
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { select(source); });
    } else {
      select(source);
      if (document.execCommand("copy")) { done(); }
    }
  }

  function select(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
})();
