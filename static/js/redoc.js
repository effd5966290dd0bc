/* ReDoc on /redoc (templates/drf_spectacular/redoc.html) under the site's
   Content-Security-Policy, which runs no <style> element without the page's
   nonce. ReDoc adds <style> elements: some as its bundle loads, the rest as
   it renders (those take the `nonce` option). This script, loaded before
   the bundle, gives every <style> element created from script this page's
   nonce, then starts ReDoc. Markup injected into the page still cannot add
   a style: the parser does not come through createElement.
   The page loads nothing from another host: an <img> created from script
   (ReDoc's only one is the Redocly logo in its menu, from cdn.redoc.ly, which
   no option turns off) keeps no source off this origin, so the browser never
   asks for it (and it draws nothing: its alt text is emptied too). */
(function () {
  "use strict";
  var script = document.currentScript;
  var nonce = script.nonce;
  var createElement = document.createElement;
  var offSite = function (url) {
    try { return new URL(String(url), document.baseURI).origin !== window.location.origin; }
    catch (error) { return true; }
  };
  var keepOnSite = function (image) {
    var setAttribute = image.setAttribute;
    image.setAttribute = function (name, value) {
      if (String(name).toLowerCase() === "src" && offSite(value)) { image.alt = ""; return; }
      return setAttribute.apply(image, arguments);
    };
    Object.defineProperty(image, "src", {
      configurable: true,
      get: function () { return image.getAttribute("src") || ""; },
      set: function (value) { image.setAttribute("src", value); }
    });
  };
  document.createElement = function (tagName) {
    var element = createElement.apply(document, arguments);
    var tag = String(tagName).toLowerCase();
    if (tag === "style") { element.nonce = nonce; }
    if (tag === "img") { keepOnSite(element); }
    return element;
  };
  document.addEventListener("DOMContentLoaded", function () {
    var settings = JSON.parse(script.dataset.settings || "{}");
    settings.nonce = nonce;
    Redoc.init(script.dataset.specUrl, settings, document.getElementById("redoc-container"));
  });
})();
