/* The facilitator never loses the room.
 *
 * - the console remembers, on this device, each session it runs (its key, as in the console
 *   link) and shows once, plainly, the link that brings it back, with a Copy button; the start
 *   page lists the remembered sessions and reopens their consoles;
 * - a console opened without its key (/console/CODE) takes the one this device remembers;
 * - the facilitator can revoke the link and get a new one (reissue_key): the old key stops
 *   working everywhere, so what brings them back is never stronger than the key itself;
 * - a console without the screen's key (a co-facilitator's) can make a screen link.
 * Loaded before app.js, which reads the key from the URL fragment.
 */
(function () {
  'use strict';

  var LIST = 'tp:consoles', MAX = 20;
  var words = window.TalkingPieceWords;
  function t(key) { return words ? words.t(key) : key; }
  function read() { try { return JSON.parse(localStorage.getItem(LIST) || '[]'); } catch (e) { return []; } }
  function write(list) { try { localStorage.setItem(LIST, JSON.stringify(list.slice(0, MAX))); } catch (e) { /* private mode */ } }
  function get(k) { try { return localStorage.getItem(k); } catch (e) { return null; } }
  function set(k, v) { try { localStorage.setItem(k, v); } catch (e) { /* private mode */ } }
  function find(code) { return read().filter(function (s) { return s.code === code; })[0] || null; }
  function remember(entry) { write([entry].concat(read().filter(function (s) { return s.code !== entry.code; }))); }
  function forget(code) { write(read().filter(function (s) { return s.code !== code; })); }
  function consoleLink(s) {
    return location.origin + '/console/' + s.code + '#key=' + encodeURIComponent(s.key) +
      (s.screen ? '&screen=' + encodeURIComponent(s.screen) : '');
  }
  function command(code, key, type) {
    return fetch('/api/sessions/' + encodeURIComponent(code) + '/commands', {
      method: 'POST', cache: 'no-store',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + key },
      body: JSON.stringify({ type: type })
    }).then(function (r) { return r.json().then(function (body) { if (!r.ok) throw new Error(r.status); return body; }); });
  }

  // ---------------------------------------------------------------- copy a link's address
  document.addEventListener('click', function (evt) {
    var button = evt.target.closest && evt.target.closest('[data-copy-link]');
    if (!button) return;
    var link = button.parentNode.querySelector('a');
    var status = button.parentNode.querySelector('[role=status]');
    var said = function (ok) { if (status) status.textContent = ok ? t('copied') : t('copy_by_hand'); };
    if (link && navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(link.href).then(function () { said(true); }, function () { said(false); });
    else said(false);
  });

  // ---------------------------------------------------------------- the start page
  var mine = document.getElementById('my-sessions');
  if (mine) {
    var list = mine.querySelector('ul');
    var show = function () {
      var sessions = read();
      list.replaceChildren();
      sessions.forEach(function (s) {
        var li = document.createElement('li');
        var a = document.createElement('a');
        a.href = consoleLink(s);
        a.textContent = (s.title || s.code) + ' (' + s.code + ')';
        var when = document.createElement('span');
        when.className = 'hint';
        try { when.textContent = ' ' + new Date(s.at).toLocaleDateString(words ? words.locale() : undefined, { day: 'numeric', month: 'short' }) + ' '; } catch (e) { when.textContent = ' '; }
        var drop = document.createElement('button');
        drop.type = 'button';
        drop.className = 'btn small';
        drop.textContent = t('forget');
        drop.setAttribute('aria-label', t('forget_session').replace('%(title)s', s.title || s.code));
        drop.addEventListener('click', function () { forget(s.code); show(); });
        li.append(a, when, drop);
        list.appendChild(li);
      });
      mine.hidden = sessions.length === 0;
    };
    show();
  }

  // ---------------------------------------------------------------- the console
  var root = document.getElementById('main');
  if (!root || root.dataset.role !== 'facilitator') return;
  var code = root.dataset.code;
  var params = new URLSearchParams(location.hash.slice(1));
  if (params.get('as') === 'me') return;            // a participant's phone token: never kept or shown
  var key = params.get('key');
  if (!key) {                                        // reopened without its key: this device's
    var kept = find(code);
    if (!kept) return;
    key = kept.key;
    history.replaceState(null, '', location.pathname + location.search + '#key=' + encodeURIComponent(key));
  }
  var titleEl = document.querySelector('.session-title');
  var screen = params.get('screen') || get('tp:screen:' + code) || (find(code) || {}).screen || '';
  if (screen) set('tp:screen:' + code, screen);
  var entry = { code: code, key: key, screen: screen, title: titleEl ? titleEl.textContent : '', at: Date.now() };
  remember(entry);

  var card = document.getElementById('way-back');
  var field = document.getElementById('way-back-link');
  var status = document.getElementById('way-back-status');
  if (card && field) { field.value = consoleLink(entry); card.hidden = false; }

  root.addEventListener('htmx:wsClose', function (evt) {
    var closed = evt.detail && evt.detail.event && evt.detail.event.code;
    if (closed === 4404) forget(code);               // the session is gone: nothing to get back to
    if (closed === 4401 && (find(code) || {}).key === key) forget(code);  // its key was re-issued elsewhere
  });

  // Only the session's own facilitator (not a co-facilitator) re-issues the key.
  fetch('/api/sessions/' + encodeURIComponent(code), { headers: { Authorization: 'Bearer ' + key }, cache: 'no-store' })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (view) {
      if (view && view.me && view.me.seat === 'host') document.getElementById('way-back-reissue-row').hidden = false;
    }).catch(function () { /* offline: the row stays hidden */ });

  var reissue = document.getElementById('way-back-reissue');
  if (reissue) reissue.addEventListener('click', function () {
    reissue.disabled = true;
    command(code, key, 'reissue_key').then(function (ack) {
      entry.key = ack.key;
      remember(entry);
      location.hash = 'key=' + encodeURIComponent(ack.key) + (screen ? '&screen=' + encodeURIComponent(screen) : '');
      location.reload();
    }).catch(function (e) {
      reissue.disabled = false;
      if (status) status.textContent = t('did_not_work').replace('%(status)s', e.message);
    });
  });

  var make = document.getElementById('screen-make');
  if (make && !screen) {
    make.hidden = false;
    make.addEventListener('click', function () {
      make.disabled = true;
      command(code, key, 'screen_link').then(function (ack) {
        set('tp:screen:' + code, ack.screen_token);
        entry.screen = ack.screen_token;
        remember(entry);
        location.reload();
      }).catch(function () { make.disabled = false; });
    });
  }
})();
