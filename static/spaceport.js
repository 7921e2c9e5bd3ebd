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
    copyText(source.tagName === "INPUT" ? source.value : source.textContent).then(
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

  function selectTab(tab) {
    var tabs = tab.closest("[data-tabs]");
    tabs.querySelectorAll("[role='tab']").forEach(function (other) {
      var chosen = other === tab;
      other.setAttribute("aria-selected", chosen ? "true" : "false");
      other.tabIndex = chosen ? 0 : -1;
      var panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) {
        panel.hidden = !chosen;
      }
    });
  }

  // Without JavaScript every snippet is shown one after the other; with it, one at a time behind tabs.
  function enhance(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      button.hidden = false;
    });
    root.querySelectorAll("[data-tabs]:not(.is-tabbed)").forEach(function (tabs) {
      var first = tabs.querySelector("[role='tab']");
      if (!first || tabs.querySelectorAll("[role='tab']").length < 2) {
        return;
      }
      tabs.classList.add("is-tabbed");
      tabs.querySelector("[role='tablist']").hidden = false;
      selectTab(tabs.querySelector("[role='tab'][aria-selected='true']") || first);
    });
    tickCountdowns();
  }

  document.addEventListener("click", function (event) {
    var tab = event.target.closest && event.target.closest("[data-tabs] [role='tab']");
    if (tab) {
      selectTab(tab);
    }
  });

  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest && event.target.closest("[data-tabs] [role='tab']");
    if (!tab || (event.key !== "ArrowRight" && event.key !== "ArrowLeft")) {
      return;
    }
    var all = Array.prototype.slice.call(tab.parentNode.querySelectorAll("[role='tab']"));
    var next = all[(all.indexOf(tab) + (event.key === "ArrowRight" ? 1 : all.length - 1)) % all.length];
    selectTab(next);
    next.focus();
    event.preventDefault();
  });

  function pad(number) {
    return number < 10 ? "0" + number : String(number);
  }

  function tickCountdowns() {
    document.querySelectorAll("[data-countdown]").forEach(function (countdown) {
      var left = Math.floor((Date.parse(countdown.getAttribute("data-countdown")) - Date.now()) / 1000);
      var credential = countdown.closest("[data-credential]");
      if (left <= 0) {
        countdown.textContent = "expired";
        countdown.classList.add("is-expired");
        if (credential) {
          credential.classList.add("is-expired");
        }
        return;
      }
      var hours = Math.floor(left / 3600);
      var minutes = Math.floor((left % 3600) / 60);
      countdown.textContent =
        (hours ? hours + " h " + pad(minutes) + " min " : minutes + " min ") + pad(left % 60) + " s left";
      countdown.classList.toggle("is-ending", left < 300);
    });
  }

  window.setInterval(tickCountdowns, 1000);

  // The credentials card answers refusals with 4xx and the card explaining them; htmx drops those unless told.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status >= 400 && status < 500 && event.detail.elt.closest("[data-credentials]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:load", function (event) {
    enhance(event.detail.elt);
  });

  document.addEventListener("htmx:afterSwap", function () {
    var credential = document.querySelector("#get-access [data-credential]");
    if (credential) {
      credential.focus({ preventScroll: true });
    }
  });

  // A refused form may sit at the bottom of a long column: bring its first error into view and focus it.
  function showFirstError() {
    var problem = document.querySelector(".field.has-error, .form-errors");
    if (!problem) {
      return;
    }
    problem.scrollIntoView({ block: "center" });
    var input = problem.querySelector("input:not([type='hidden']), select, textarea");
    if (input) {
      input.focus({ preventScroll: true });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    showFirstError();
    document.querySelectorAll("[data-grant-form]").forEach(function (form) {
      syncGrantForm(form);
      form.addEventListener("change", function () {
        syncGrantForm(form);
      });
    });
  });
})();
