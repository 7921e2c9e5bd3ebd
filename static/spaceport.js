// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  document.addEventListener("click", function (event) {
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      if (!menu.contains(event.target)) {
        menu.removeAttribute("open");
      }
    });
  });

  function syncGrantForm(form) {
    var scope = form.querySelector("[name='grant-scope']");
    var space = form.querySelector("[data-field='grant-space']");
    if (!scope || !space) {
      return;
    }
    space.hidden = scope.value !== "space";
    var roles = form.querySelector("[name='grant-role']");
    if (roles) {
      roles.querySelectorAll("optgroup").forEach(function (group) {
        var applies = (group.label.indexOf("Space") === 0) === (scope.value === "space");
        group.disabled = !applies;
      });
      var chosen = roles.options[roles.selectedIndex];
      if (chosen && chosen.parentNode.disabled) {
        var first = roles.querySelector("optgroup:not([disabled]) option");
        if (first) {
          first.selected = true;
        }
      }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-grant-form]").forEach(function (form) {
      syncGrantForm(form);
      form.addEventListener("change", function () {
        syncGrantForm(form);
      });
    });
  });
})();
