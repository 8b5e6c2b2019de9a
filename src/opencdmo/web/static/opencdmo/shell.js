// The shell's few behaviours: dropdown groups, the phone menu, back links and copy-to-clipboard.
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
