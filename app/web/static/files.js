// Shared by every page that fetches a document with a key in the Authorization header (never
// in a URL, where the server's log could keep it): the keyed fetch, saving a response as a
// file, and filling a print page's <main> with the content block it fetched.
(function () {
  "use strict";

  function withKey(path, key, options) {
    options = options || {};
    options.headers = Object.assign({ Authorization: "Bearer " + key }, options.headers || {});
    options.cache = "no-store";
    options.credentials = "omit";
    return fetch(path, options);
  }

  // Saves the response's body under the name its Content-Disposition gives (or ``fallback``).
  function save(response, fallback) {
    var name = (response.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/);
    return response.blob().then(function (blob) {
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = name ? name[1] : fallback;
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    });
  }

  function fill(main, html) {
    // Server-rendered, autoescaped markup from our own origin; it holds no script.
    var doc = new DOMParser().parseFromString("<main>" + html + "</main>", "text/html");
    main.replaceChildren.apply(main, Array.prototype.slice.call(doc.body.firstChild.childNodes));
    main.removeAttribute("aria-busy");
  }

  // Puts one line of text in place of a print page's content (loading, or what went wrong).
  function say(main, text) {
    main.textContent = "";
    var p = document.createElement("p");
    p.className = "loading";
    p.textContent = text;
    main.appendChild(p);
    main.removeAttribute("aria-busy");
  }

  window.TalkingPieceFiles = { withKey: withKey, save: save, fill: fill, say: say };

  // The page's words for its scripts, in the page's language (web/templates/_script_words.html):
  // t("saved_at", {time: "10:04"}) fills its %(time)s. The scripts hold no visible text.
  var words = null;
  function t(key, params) {
    if (words === null) {
      var el = document.getElementById("script-words");
      try { words = el ? JSON.parse(el.textContent) : {}; } catch (e) { words = {}; }
    }
    var text = words[key] || key;
    return text.replace(/%\((\w+)\)s/g, function (all, name) { return params && name in params ? String(params[name]) : all; });
  }
  var lang = document.documentElement.lang || "en";
  // Times and numbers: the browser's own variant of the page's language (en-GB's 17:41 on an
  // English page in a British browser), else the page's language itself.
  function locale() {
    var wanted = lang.split("-")[0], mine = navigator.languages || [navigator.language];
    for (var i = 0; i < mine.length; i++) if (mine[i] && mine[i].split("-")[0] === wanted) return mine[i];
    return lang;
  }
  window.TalkingPieceWords = { t: t, lang: lang, locale: locale };

  // The language picker: chosen, the page opens again in that language with its URL's
  // fragment kept (the console's and the screen's key live there).
  function pickers() {
    var forms = document.querySelectorAll("form[data-language-picker]");
    for (var i = 0; i < forms.length; i++) {
      (function (form) {
        var select = form.querySelector("select");
        var button = form.querySelector("[data-language-submit]");
        if (button) button.hidden = true;
        form.addEventListener("submit", function () { form.action = location.pathname + location.hash; });
        if (select) select.addEventListener("change", function () {
          form.action = location.pathname + location.hash;
          form.submit();
        });
      })(forms[i]);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", pickers); else pickers();
})();
