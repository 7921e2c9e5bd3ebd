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

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    var scratch = document.createElement("textarea");
    scratch.value = text;
    scratch.setAttribute("readonly", "");
    scratch.style.position = "fixed";
    scratch.style.opacity = "0";
    document.body.appendChild(scratch);
    scratch.select();
    var copied = document.execCommand("copy");
    document.body.removeChild(scratch);
    return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) {
      return;
    }
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) {
      return;
    }
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    copyText(source.textContent).then(
      function () {
        button.textContent = "Copied";
        button.classList.add("is-copied");
      },
      function () {
        button.textContent = "Select and copy";
      }
    );
    window.setTimeout(function () {
      button.textContent = label;
      button.classList.remove("is-copied");
    }, 1600);
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.hidden = false;
    });
    document.querySelectorAll("[data-grant-form]").forEach(function (form) {
      syncGrantForm(form);
      form.addEventListener("change", function () {
        syncGrantForm(form);
      });
    });
  });
})();
