/* What this device keeps for the pages, in one place: localStorage when the browser allows it,
 * else a map that lasts as long as the page (a private window that refuses storage still
 * works, it just forgets on reload), and the name of every key the pages keep.
 */

function probed() {
  try {
    localStorage.setItem('tp:probe', '1');
    localStorage.removeItem('tp:probe');
    return {
      get: function (k) { try { return localStorage.getItem(k); } catch (e) { return null; } },
      set: function (k, v) { try { localStorage.setItem(k, v); } catch (e) { /* full: kept for this page only */ } },
      remove: function (k) { try { localStorage.removeItem(k); } catch (e) { /* nothing kept */ } }
    };
  } catch (e) {
    var mem = {};
    return {
      get: function (k) { return Object.prototype.hasOwnProperty.call(mem, k) ? mem[k] : null; },
      set: function (k, v) { mem[k] = String(v); },
      remove: function (k) { delete mem[k]; }
    };
  }
}

export var store = probed();

export var keys = {
  token: function (code) { return 'tp:token:' + code; },          // a phone's participant token, after joining
  removed: function (code) { return 'tp:removed:' + code; },      // the facilitator removed this phone
  knock: function (code) { return 'tp:knock:' + code; },          // waiting at a locked door with this token
  screen: function (code) { return 'tp:screen:' + code; },        // the screen's key, kept by its console
  outbox: function (code, role, token) { return 'tp:outbox:' + code + ':' + role + ':' + token.slice(0, 8); },
  member: function (group) { return 'tp:member:' + group; },      // a recurring group's member code
  memberName: function (group) { return 'tp:member:' + group + ':name'; },
  memberNew: function (group) { return 'tp:member:' + group + ':new'; },  // given just now: shown open once
  sound: 'tp:sound',
  shortcuts: 'tp:shortcuts',                                      // the console's single-key shortcuts: on unless turned off
  consoles: 'tp:consoles'                                          // the sessions this device runs
};

export function readJSON(key, fallback) {
  try { return JSON.parse(store.get(key) || 'null') || fallback; } catch (e) { return fallback; }
}

// The consoles this device runs (keep.js's list): newest first, at most MAX.
var MAX = 20;
export var consoles = {
  all: function () { return readJSON(keys.consoles, []); },
  find: function (code) { return consoles.all().filter(function (s) { return s.code === code; })[0] || null; },
  remember: function (entry) { write([entry].concat(consoles.all().filter(function (s) { return s.code !== entry.code; }))); },
  forget: function (code) { write(consoles.all().filter(function (s) { return s.code !== code; })); }
};
function write(list) { store.set(keys.consoles, JSON.stringify(list.slice(0, MAX))); }
