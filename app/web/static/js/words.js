/* The page's words and numbers for its scripts, in the page's language.
 *
 * - t("saved_at", {time: "10:04"}) reads web/templates/_script_words.html's message and fills
 *   its %(time)s: the scripts hold no visible text;
 * - refusal(error): a refusal's sentence from its reason, with its values;
 * - codes: the close codes and refusal reasons the scripts act on, from the server's one list
 *   (app/realtime/close_codes.py, FOR_SCRIPTS, rendered by base.html): no script writes a number;
 * - times in the viewer's own clock, written with the page's own month and weekday names.
 */

function data(id, fallback) {
  var el = document.getElementById(id);
  try { return el ? JSON.parse(el.textContent) : fallback; } catch (e) { return fallback; }
}

var words = null;
export function t(key, params) {
  if (words === null) words = data('script-words', {});
  var text = words[key] || key;
  return text.replace(/%\((\w+)\)s/g, function (all, name) { return params && name in params ? String(params[name]) : all; });
}

var found = null;
export function codes() {
  if (found === null) found = data('script-codes', { close: {}, reasons: {} });
  return found;
}

// A refusal ({reason, values}: the API's error object, or a Refusal from api.js) as the page's
// language says it, from its reason (web/templates/_script_words.html, "refusal-words", from
// app/pages/words.py); null for a reason the page has no sentence for (the API's message is
// English, for programs).
var refusals = null;
export function refusal(error) {
  if (refusals === null) refusals = data('refusal-words', {});
  var text = error && refusals[error.reason];
  if (!text) return null;
  var values = error.values || {};
  return text.replace(/%\((\w+)\)s/g, function (all, name) { return name in values ? String(values[name]) : all; });
}

export var lang = document.documentElement.lang || 'en';

// Times and numbers: the browser's own variant of the page's language (en-GB's 17:41 on an
// English page in a British browser), else the page's language itself.
export function locale() {
  var wanted = lang.split('-')[0], mine = navigator.languages || [navigator.language];
  for (var i = 0; i < mine.length; i++) if (mine[i] && mine[i].split('-')[0] === wanted) return mine[i];
  return lang;
}

export function number(n) { try { return n.toLocaleString(locale()); } catch (e) { return String(n); } }

// Moments in the viewer's own clock, in the page's words (web/templates/_script_words.html):
// the page brings its language's month and weekday names and time pattern, since a browser
// may have no date data for it (Chromium has none for Welsh) and a sentence's grammar
// decides how a date sits in it.
var dates = null;
function dateWords() {
  if (dates === null) dates = data('date-words', {});
  return dates;
}
function two(n) { return (n < 10 ? '0' : '') + n; }
// A time of day in local time: as the browser writes it in its own variant of the page's
// language (17:41 in an en-GB browser) when it has that language's data, else by the page's
// CLDR pattern ("HH:mm", "h:mm a", "H:mm").
var browserClock = null;
export function clock(at) {
  if (browserClock === null) {
    try {
      browserClock = Intl.DateTimeFormat.supportedLocalesOf([locale()]).length
        ? new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit' }) : false;
    } catch (e) { browserClock = false; }
  }
  if (browserClock) { return browserClock.format(at); }
  var d = dateWords(), h = at.getHours(), m = at.getMinutes();
  if (!d.time) { return two(h) + ':' + two(m); }
  return d.time.replace(/'[^']*'|HH|H|hh|h|mm|m|a/g, function (token) {
    switch (token) {
      case 'HH': return two(h);
      case 'H': return String(h);
      case 'hh': return two(h % 12 || 12);
      case 'h': return String(h % 12 || 12);
      case 'mm': return two(m);
      case 'm': return String(m);
      case 'a': return h < 12 ? d.am : d.pm;
      default: return token.slice(1, -1);
    }
  });
}
export function moment(at) {
  var d = dateWords();
  if (!d.moment) { return at.toLocaleString(); }
  var parts = { time: clock(at), weekday: d.weekdays[at.getDay()], day: String(at.getDate()), month: d.months[at.getMonth()] };
  return d.moment.replace(/%\((\w+)\)s/g, function (all, name) { return name in parts ? parts[name] : all; });
}
function day(at) {
  var d = dateWords();
  return at.getDate() + ' ' + (d.months_short ? d.months_short[at.getMonth()] : at.getMonth() + 1) + ' ' + at.getFullYear();
}
// Every element with data-local-time under ``root`` (the server wrote it in UTC, its moment in
// ``datetime``): a moment, or with data-local-time="clock" a time of day, "day" a day,
// "day-time" both.
export function localTimes(root) {
  var times = (root || document).querySelectorAll('[data-local-time]:not([data-localised])');
  for (var i = 0; i < times.length; i++) {
    var at = new Date(times[i].getAttribute('datetime'));
    if (isNaN(at)) { continue; }
    var form = times[i].getAttribute('data-local-time');
    times[i].textContent = form === 'clock' ? clock(at) : form === 'day' ? day(at)
      : form === 'day-time' ? day(at) + ', ' + clock(at) : moment(at);
    times[i].setAttribute('data-localised', '');
  }
}
