/* The live socket (htmx's WebSocket extension) and the outbox in front of it.
 *
 * - every command gets an id and waits in an outbox (kept on this device) until the server
 *   acknowledges it; unacknowledged commands are sent again on reconnect, and the server
 *   applies each id once;
 * - reconnects back off from 0.5 s to 8 s, with jitter so a room of phones spreads out;
 * - a quiet "reconnecting" banner (a blip under a second and a half shows nothing); the
 *   server pushes every region again on connect;
 * - a close the page cannot come back from (a wrong key, a session that is gone) says so and
 *   stops reconnecting.
 */
import { store, keys, readJSON } from './storage.js';
import { t, lang, number, codes } from './words.js';
import { banner } from './banner.js';
import { awaitReply, notSentYet, routeReplies } from './replies.js';

var DAY = 86400000;
var page = null, outboxKey = null, outbox = [];
var socket = null;      // the extension's socket wrapper, once seen
var connected = false, downSince = null, fatal = false;

function saveOutbox() { store.set(outboxKey, JSON.stringify(outbox)); }
function newId() {
  var bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
}
function canSend() { return socket && connected && navigator.onLine !== false; }
function flush() {
  if (!canSend()) return;
  outbox.forEach(function (entry) { socket.sendImmediately(JSON.stringify(entry.params)); });
}

// Opens ``live``'s socket. ``onBadToken``: what a phone does when its token stops working
// (it may have been removed, rather than hold a wrong link).
export function connect(live, onBadToken) {
  page = live;
  var root = live.root;
  if (window.htmx) {
    htmx.config.wsReconnectDelay = function (retries) {
      var base = Math.min(8000, 500 * Math.pow(2, retries));
      return base / 2 + Math.random() * base / 2;
    };
  }
  // Set before htmx processes the page (module scripts run before DOMContentLoaded, when htmx starts).
  root.setAttribute('ws-connect', root.dataset.live + '?token=' + encodeURIComponent(live.token) +
    (live.asConsole ? '&as=console' : '') + '&lang=' + encodeURIComponent(lang));

  outboxKey = keys.outbox(live.code, live.role, live.token);
  outbox = readJSON(outboxKey, []).filter(function (entry) { return Date.now() - entry.at < DAY; });

  document.addEventListener('htmx:wsConfigSend', function (evt) {
    var d = evt.detail;
    if (d.errors && d.errors.length) return;   // let htmx report the invalid field
    evt.preventDefault();                         // we send it ourselves, through the outbox
    socket = d.socketWrapper || socket;
    var message = Object.assign({}, d.parameters, { cid: newId() });
    outbox.push({ params: message, at: Date.now() });
    saveOutbox();
    awaitReply(message.cid, evt.target.closest('form'));
    if (canSend()) socket.sendImmediately(JSON.stringify(message));
    else {
      showConnection();
      notSentYet(message.cid);
    }
  });

  root.addEventListener('htmx:wsOpen', function (evt) {
    socket = evt.detail.socketWrapper;
    connected = true;
    downSince = null;
    showConnection();
    flush();
  });
  root.addEventListener('htmx:wsClose', function (evt) {
    socket = evt.detail.socketWrapper || socket;
    connected = false;
    var closeCode = evt.detail.event && evt.detail.event.code;
    var close = codes().close;
    if (closeCode === close.bad_token && onBadToken) return onBadToken();
    if (closeCode === close.bad_token) return gone(t('link_not_valid'));
    if (closeCode === close.gone) return gone(t('session_gone'));
    if (downSince === null) downSince = Date.now();
    showConnection();
  });
  window.addEventListener('online', function () { showConnection(); flush(); });
  window.addEventListener('offline', function () { if (downSince === null) downSince = Date.now(); showConnection(); });
}

// The server acknowledged the commands whose replies this message holds: they leave the outbox.
export function acknowledge(message) {
  routeReplies();
  var ids = [];
  message.replace(/data-reply-id="([0-9a-f]+)"/g, function (_, id) { ids.push(id); return ''; });
  if (!ids.length) return;
  outbox = outbox.filter(function (entry) { return ids.indexOf(entry.params.cid) < 0; });
  saveOutbox();
  showConnection();
}

// The socket stays closed: nothing more to reconnect to.
export function stop() {
  fatal = true;
  connected = false;
  page.root.removeAttribute('ws-connect');
}

// The page cannot come back (its link is wrong, its session gone): a phone forgets its token
// and offers to join again.
export function gone(text) {
  stop();
  if (page.role === 'participant') {
    store.remove(keys.token(page.code));
    store.remove(outboxKey);
    banner(text + ' ', true, { label: t('join_again'), href: location.pathname });
  } else {
    banner(text, true);
  }
}

// What the line at the top says is worked out when it shows, not when it was asked for: a
// "reconnecting" asked for before the phone went offline, or before three commands waited,
// never covers what is true by then.
var pendingBanner = null;
function showConnection() {
  if (fatal) return;
  if (pendingBanner !== null) { clearTimeout(pendingBanner); pendingBanner = null; }
  if (canSend()) { banner(null); return; }
  // Quiet: a blip shorter than a second and a half shows nothing, unless commands are waiting.
  var delay = outbox.length || downSince === null ? 0 : Math.max(0, 1500 - (Date.now() - downSince));
  pendingBanner = setTimeout(function () {
    pendingBanner = null;
    if (canSend() || fatal) return;
    var text = navigator.onLine === false ? t('offline') : t('reconnecting');
    if (outbox.length) text += ' ' + t('waiting_to_send', { count: number(outbox.length) });
    banner(text);
  }, delay);
}
