/* ReDoc on /redoc (templates/drf_spectacular/redoc.html) under the site's
   Content-Security-Policy, which runs no <style> element without the page's
   nonce. ReDoc adds <style> elements: some as its bundle loads, the rest as
   it renders (those take the `nonce` option). This script, loaded before
   the bundle, gives every <style> element created from script this page's
   nonce, then starts ReDoc. Markup injected into the page still cannot add
   a style: the parser does not come through createElement. */
(function () {
  "use strict";
  var script = document.currentScript;
  var nonce = script.nonce;
  var createElement = document.createElement;
  document.createElement = function (tagName) {
    var element = createElement.apply(document, arguments);
    if (String(tagName).toLowerCase() === "style") { element.nonce = nonce; }
    return element;
  };
  document.addEventListener("DOMContentLoaded", function () {
    var settings = JSON.parse(script.dataset.settings || "{}");
    settings.nonce = nonce;
    Redoc.init(script.dataset.specUrl, settings, document.getElementById("redoc-container"));
  });
})();
