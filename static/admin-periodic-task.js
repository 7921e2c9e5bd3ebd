// django-celery-beat's periodic task form: show a readable translation of the chosen crontab.
// A file rather than the package's inline script, which the Content-Security-Policy refuses.
(function () {
  "use strict";

  var $ = django.jQuery;
  var readableCrontabs = JSON.parse($("#readable-crontabs").text());
  var originalHelp = document.currentScript.getAttribute("data-crontab-help") || "";

  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    var translation = readableCrontabs[$("#id_crontab").val()];
    $(".field-crontab .help").text(originalHelp).append("<br>", document.createTextNode("Translation: " + translation));
  });
})();
