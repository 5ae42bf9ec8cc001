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
    window.TalkingPieceWords.localTimes(main);
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
  // A refusal from the API ({code, reason, message, values}) as the page's language says it,
  // from its reason (web/templates/_script_words.html, "refusal-words"); null for a reason the
  // page has no sentence for (the API's message is English, for programs).
  var refusals = null;
  function refusal(error) {
    if (refusals === null) {
      var el = document.getElementById("refusal-words");
      try { refusals = el ? JSON.parse(el.textContent) : {}; } catch (e) { refusals = {}; }
    }
    var text = error && refusals[error.reason];
    if (!text) return null;
    var values = error.values || {};
    return text.replace(/%\((\w+)\)s/g, function (all, name) { return name in values ? String(values[name]) : all; });
  }
  var lang = document.documentElement.lang || "en";
  // Times and numbers: the browser's own variant of the page's language (en-GB's 17:41 on an
  // English page in a British browser), else the page's language itself.
  function locale() {
    var wanted = lang.split("-")[0], mine = navigator.languages || [navigator.language];
    for (var i = 0; i < mine.length; i++) if (mine[i] && mine[i].split("-")[0] === wanted) return mine[i];
    return lang;
  }
  // Moments in the viewer's own clock, in the page's words (web/templates/_script_words.html):
  // the page brings its language's month and weekday names and time pattern, since a browser
  // may have no date data for it (Chromium has none for Welsh) and a sentence's grammar
  // decides how a date sits in it.
  var dates = null;
  function dateWords() {
    if (dates === null) {
      var el = document.getElementById("date-words");
      try { dates = el ? JSON.parse(el.textContent) : {}; } catch (e) { dates = {}; }
    }
    return dates;
  }
  function two(n) { return (n < 10 ? "0" : "") + n; }
  // A time of day in local time: as the browser writes it in its own variant of the page's
  // language (17:41 in an en-GB browser) when it has that language's data, else by the page's
  // CLDR pattern ("HH:mm", "h:mm a", "H:mm").
  var browserClock = null;
  function clock(at) {
    if (browserClock === null) {
      try {
        browserClock = Intl.DateTimeFormat.supportedLocalesOf([locale()]).length
          ? new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit" }) : false;
      } catch (e) { browserClock = false; }
    }
    if (browserClock) { return browserClock.format(at); }
    var d = dateWords(), h = at.getHours(), m = at.getMinutes();
    if (!d.time) { return two(h) + ":" + two(m); }
    return d.time.replace(/'[^']*'|HH|H|hh|h|mm|m|a/g, function (token) {
      switch (token) {
        case "HH": return two(h);
        case "H": return String(h);
        case "hh": return two(h % 12 || 12);
        case "h": return String(h % 12 || 12);
        case "mm": return two(m);
        case "m": return String(m);
        case "a": return h < 12 ? d.am : d.pm;
        default: return token.slice(1, -1);
      }
    });
  }
  function moment(at) {
    var d = dateWords();
    if (!d.moment) { return at.toLocaleString(); }
    var parts = { time: clock(at), weekday: d.weekdays[at.getDay()], day: String(at.getDate()), month: d.months[at.getMonth()] };
    return d.moment.replace(/%\((\w+)\)s/g, function (all, name) { return name in parts ? parts[name] : all; });
  }
  function day(at) {
    var d = dateWords();
    return at.getDate() + " " + (d.months_short ? d.months_short[at.getMonth()] : at.getMonth() + 1) + " " + at.getFullYear();
  }
  // Every element with data-local-time under ``root`` (the server wrote it in UTC, its moment in
  // ``datetime``): a moment, or with data-local-time="clock" a time of day, "day" a day,
  // "day-time" both.
  function localTimes(root) {
    var times = (root || document).querySelectorAll("[data-local-time]:not([data-localised])");
    for (var i = 0; i < times.length; i++) {
      var at = new Date(times[i].getAttribute("datetime"));
      if (isNaN(at)) { continue; }
      var form = times[i].getAttribute("data-local-time");
      times[i].textContent = form === "clock" ? clock(at) : form === "day" ? day(at)
        : form === "day-time" ? day(at) + ", " + clock(at) : moment(at);
      times[i].setAttribute("data-localised", "");
    }
  }
  window.TalkingPieceWords = { t: t, refusal: refusal, lang: lang, locale: locale, clock: clock, moment: moment, localTimes: localTimes };

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
