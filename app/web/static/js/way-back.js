/* The facilitator never loses the room.
 *
 * - the console remembers, on this device, each session it runs (its key, as in the console
 *   link) and shows once, plainly, the link that brings it back (the start page lists them:
 *   my-sessions.js);
 * - a console opened without its key (/console/CODE) takes the one this device remembers;
 * - the facilitator can revoke the link and get a new one (reissue_key): the old key stops
 *   working everywhere, so what brings them back is never stronger than the key itself;
 * - a console without the screen's key (a co-facilitator's) can make a screen link.
 * Runs before the console reads its key from the URL fragment (live-page.js).
 */
import { store, keys, consoles } from './storage.js';
import { withKey, sendJSON, json } from './api.js';
import { t, codes } from './words.js';

export function consoleLink(s) {
  return location.origin + '/console/' + s.code + '#key=' + encodeURIComponent(s.key) +
    (s.screen ? '&screen=' + encodeURIComponent(s.screen) : '');
}

function command(code, key, type) {
  return sendJSON('/api/sessions/' + encodeURIComponent(code) + '/commands', key, { type: type }).then(json);
}

export function wayBack(root) {
  var code = root.dataset.code;
  var params = new URLSearchParams(location.hash.slice(1));
  if (params.get('as') === 'me') return;            // a participant's phone token: never kept or shown
  var key = params.get('key');
  if (!key) {                                        // reopened without its key: this device's
    var kept = consoles.find(code);
    if (!kept) return;
    key = kept.key;
    history.replaceState(null, '', location.pathname + location.search + '#key=' + encodeURIComponent(key));
  }
  var titleEl = document.querySelector('.session-title');
  var screen = params.get('screen') || store.get(keys.screen(code)) || (consoles.find(code) || {}).screen || '';
  if (screen) store.set(keys.screen(code), screen);
  var entry = { code: code, key: key, screen: screen, title: titleEl ? titleEl.textContent : '', at: Date.now() };
  consoles.remember(entry);

  var card = document.getElementById('way-back');
  var field = document.getElementById('way-back-link');
  var status = document.getElementById('way-back-status');
  if (card && field) { field.value = consoleLink(entry); card.hidden = false; }

  root.addEventListener('htmx:wsClose', function (evt) {
    var closed = evt.detail && evt.detail.event && evt.detail.event.code;
    var close = codes().close;
    if (closed === close.gone) consoles.forget(code);   // the session is gone: nothing to get back to
    if (closed === close.bad_token && (consoles.find(code) || {}).key === key) consoles.forget(code);  // its key was re-issued elsewhere
  });

  // Only the session's own facilitator (not a co-facilitator) re-issues the key.
  withKey('/api/sessions/' + encodeURIComponent(code), key)
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (view) {
      if (view && view.me && view.me.seat === 'host') document.getElementById('way-back-reissue-row').hidden = false;
    }).catch(function () { /* offline: the row stays hidden */ });

  var reissue = document.getElementById('way-back-reissue');
  if (reissue) reissue.addEventListener('click', function () {
    reissue.disabled = true;
    command(code, key, 'reissue_key').then(function (ack) {
      entry.key = ack.key;
      consoles.remember(entry);
      location.hash = 'key=' + encodeURIComponent(ack.key) + (screen ? '&screen=' + encodeURIComponent(screen) : '');
      location.reload();
    }).catch(function (e) {
      reissue.disabled = false;
      if (status) status.textContent = t('did_not_work', { status: e.status || e.message });
    });
  });

  var make = document.getElementById('screen-make');
  if (make && !screen) {
    make.hidden = false;
    make.addEventListener('click', function () {
      make.disabled = true;
      command(code, key, 'screen_link').then(function (ack) {
        store.set(keys.screen(code), ack.screen_token);
        entry.screen = ack.screen_token;
        consoles.remember(entry);
        location.reload();
      }).catch(function () { make.disabled = false; });
    });
  }
}
