/* Talking Piece: the little the pages need beyond htmx and its WebSocket extension.
 *
 * - tokens: the console and screen read theirs from the URL fragment (#key=...); the phone
 *   keeps its participant token in localStorage after joining;
 * - countdowns run here from ends_at and the server's clock offset (no per-second messages);
 * - every command gets an id and waits in an outbox (localStorage on the phone) until the
 *   server acknowledges it; unacknowledged commands are sent again on reconnect and the
 *   server applies each id once;
 * - a quiet "reconnecting" banner; the server pushes every region again on connect;
 * - "your turn": vibration, a screen wake lock and an announcement for screen readers;
 * - keyboard shortcuts on the console.
 */
(function () {
  'use strict';

  var root = document.getElementById('main');
  var role = root && root.dataset.role;
  if (!role) return;
  var code = root.dataset.code;
  var store = safeStorage();

  // ---------------------------------------------------------------- tokens
  var token = null;
  if (role === 'participant') {
    token = store.get('tp:token:' + code);
  } else {
    var params = new URLSearchParams(location.hash.slice(1));
    token = params.get('key');
    if (params.get('screen')) store.set('tp:screen:' + code, params.get('screen'));
  }

  if (role === 'facilitator') showScreenLink();
  if (role === 'participant' && !token) { setupJoin(); return; }
  if (!token) { banner('This link is missing its key (the part after #key=). Open the full link again.', true); return; }
  if (role === 'participant') {
    document.getElementById('join-panel').hidden = true;
    document.getElementById('room').hidden = false;
  }

  // Backoff for reconnects: 0.5 s doubling to 8 s, with jitter so a room of phones spreads out.
  if (window.htmx) {
    htmx.config.wsReconnectDelay = function (retries) {
      var base = Math.min(8000, 500 * Math.pow(2, retries));
      return base / 2 + Math.random() * base / 2;
    };
  }
  // Set before htmx processes the page (this script is deferred, htmx starts on DOMContentLoaded).
  root.setAttribute('ws-connect', root.dataset.live + '?token=' + encodeURIComponent(token));

  // ---------------------------------------------------------------- outbox
  var outboxKey = 'tp:outbox:' + code + ':' + role + ':' + token.slice(0, 8);
  var outbox = (function () { try { return JSON.parse(store.get(outboxKey) || '[]'); } catch (e) { return []; } })();
  var DAY = 86400000;
  outbox = outbox.filter(function (entry) { return Date.now() - entry.at < DAY; });
  var socket = null;      // the extension's socket wrapper, once seen
  var connected = false;

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

  document.addEventListener('htmx:wsConfigSend', function (evt) {
    var d = evt.detail;
    if (d.errors && d.errors.length) return;   // let htmx report the invalid field
    evt.preventDefault();                         // we send it ourselves, through the outbox
    socket = d.socketWrapper || socket;
    var message = Object.assign({}, d.parameters, { cid: newId() });
    outbox.push({ params: message, at: Date.now() });
    saveOutbox();
    if (canSend()) socket.sendImmediately(JSON.stringify(message));
    else showConnection();
    var form = evt.target.closest('form');
    if (form && form.dataset.clear) {
      var field = document.getElementById(form.dataset.clear);
      if (field) field.value = '';
    }
  });

  function acknowledge(message) {
    var ids = [];
    message.replace(/data-reply-id="([0-9a-f]+)"/g, function (_, id) { ids.push(id); return ''; });
    if (!ids.length) return;
    outbox = outbox.filter(function (entry) { return ids.indexOf(entry.params.cid) < 0; });
    saveOutbox();
    showConnection();
  }

  // ---------------------------------------------------------------- connection
  var downSince = null, fatal = false;

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
    if (closeCode === 4401) return gone(role === 'participant'
      ? 'You are no longer in this session.' : 'This link is not valid for this session.');
    if (closeCode === 4404) return gone('This session no longer exists.');
    if (downSince === null) downSince = Date.now();
    showConnection();
  });
  window.addEventListener('online', function () { showConnection(); flush(); });
  window.addEventListener('offline', function () { if (downSince === null) downSince = Date.now(); showConnection(); });

  function gone(text) {
    fatal = true;
    connected = false;
    if (role === 'participant') {
      store.remove('tp:token:' + code);
      store.remove(outboxKey);
      banner(text + ' ', true, { label: 'Join again', href: location.pathname });
    } else {
      banner(text, true);
    }
    root.removeAttribute('ws-connect');
  }

  function showConnection() {
    if (fatal) return;
    var waiting = outbox.length;
    if (canSend()) { banner(null); return; }
    var text = navigator.onLine === false ? 'Offline. ' : 'Reconnecting… ';
    if (waiting) text += waiting === 1 ? '1 thing will be sent when you are back.' : waiting + ' things will be sent when you are back.';
    // Quiet: a blip shorter than a second and a half shows nothing.
    var delay = downSince === null ? 0 : Math.max(0, 1500 - (Date.now() - downSince));
    setTimeout(function () { if (!canSend() && !fatal) banner(text); }, waiting ? 0 : delay);
  }

  function banner(text, isFatal, link) {
    var el = document.getElementById('conn');
    if (!el) return;
    if (!text) { el.hidden = true; el.textContent = ''; return; }
    el.textContent = text;
    if (link) {
      var a = document.createElement('a');
      a.href = link.href;
      a.textContent = link.label;
      a.className = 'btn small';
      el.appendChild(a);
    }
    el.classList.toggle('fatal', !!isFatal);
    el.hidden = false;
  }

  // ---------------------------------------------------------------- messages: clock, focus, turns
  var offsets = [];
  var offset = 0;       // server clock minus ours, in seconds
  var focusedId = null;

  root.addEventListener('htmx:wsBeforeMessage', function () {
    var active = document.activeElement;
    focusedId = active && active !== document.body && active.id ? active.id : null;
  });
  root.addEventListener('htmx:wsAfterMessage', function (evt) {
    var message = evt.detail.message || '';
    acknowledge(message);
    var clock = document.getElementById('clock');
    if (clock && clock.dataset.serverTime && message.indexOf('id="clock"') >= 0) {
      // The frame left the server moments ago: the largest recent offset has the least delay in it.
      offsets.push(parseFloat(clock.dataset.serverTime) - Date.now() / 1000);
      if (offsets.length > 8) offsets.shift();
      offset = Math.max.apply(null, offsets);
    }
    if (focusedId && (!document.activeElement || document.activeElement === document.body)) {
      var again = document.getElementById(focusedId);
      if (again) again.focus({ preventScroll: true });
    }
    tick();
    if (role === 'participant') watchTurn();
  });

  function fmt(seconds) {
    var whole = Math.max(0, Math.ceil(seconds - 1e-6));
    var s = whole % 60;
    return Math.floor(whole / 60) + ':' + (s < 10 ? '0' : '') + s;
  }
  function remainingOf(el) {
    if (el.dataset.frozen !== undefined) return parseFloat(el.dataset.frozen);
    return parseFloat(el.dataset.endsAt) - (Date.now() / 1000 + offset);
  }
  function tick() {
    var clocks = document.querySelectorAll('[data-ends-at]');
    for (var i = 0; i < clocks.length; i++) {
      var left = remainingOf(clocks[i]);
      var text = fmt(left);
      if (clocks[i].textContent !== text) clocks[i].textContent = text;
      clocks[i].classList.toggle('low', left <= 10);
    }
  }
  setInterval(tick, 250);

  var wasMine = false, wasNext = false, wakeLock = null;
  function watchTurn() {
    var glance = document.getElementById('glance');
    if (!glance) return;
    var mine = glance.dataset.myTurn === '1';
    var next = glance.dataset.upNext === '1';
    if (mine && !wasMine) {
      var clockEl = glance.querySelector('[data-ends-at]');
      announce('Your turn' + (clockEl ? ', ' + fmt(remainingOf(clockEl)) + ' left' : '') + '.');
      if (navigator.vibrate) { try { navigator.vibrate([200, 100, 200]); } catch (e) { /* not allowed yet */ } }
      lockScreen();
    } else if (next && !wasNext && !mine) {
      announce('You are up next.');
    }
    if (!mine && wasMine) releaseScreen();
    wasMine = mine;
    wasNext = next;
  }
  function announce(text) {
    var el = document.getElementById('announcer');
    if (!el) return;
    el.textContent = '';
    setTimeout(function () { el.textContent = text; }, 50);
  }
  function lockScreen() {
    if (!('wakeLock' in navigator) || wakeLock) return;
    navigator.wakeLock.request('screen').then(function (lock) {
      wakeLock = lock;
      lock.addEventListener('release', function () { wakeLock = null; });
    }).catch(function () { /* the phone said no: fine */ });
  }
  function releaseScreen() {
    if (wakeLock) { wakeLock.release().catch(function () {}); wakeLock = null; }
  }
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible' && wasMine) lockScreen();
  });

  // ---------------------------------------------------------------- small interactions
  document.addEventListener('click', function (evt) {
    var restore = evt.target.closest('[data-restore-target]');
    if (!restore) return;
    var field = document.getElementById(restore.dataset.restoreTarget);
    if (field) { field.value = restore.dataset.restoreText || ''; field.focus(); }
    var note = document.getElementById('notice');
    if (note) note.textContent = '';
  });

  if (role === 'facilitator') {
    document.addEventListener('keydown', function (evt) {
      if (evt.ctrlKey || evt.metaKey || evt.altKey || evt.repeat) return;
      var t = evt.target;
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
      var button = document.querySelector('[data-key="' + (evt.key.length === 1 ? evt.key : '') + '"]');
      if (!button || button.disabled) return;
      evt.preventDefault();
      button.click();
    });
  }

  // ---------------------------------------------------------------- helpers
  function showScreenLink() {
    var screenKey = store.get('tp:screen:' + code);
    var link = document.getElementById('screen-link');
    var missing = document.getElementById('screen-missing');
    if (!link) return;
    if (screenKey) {
      link.href = '/screen/' + code + '#key=' + encodeURIComponent(screenKey);
      link.hidden = false;
    } else if (missing) {
      missing.hidden = false;
    }
  }

  function setupJoin() {
    var form = document.getElementById('join-form');
    var error = document.getElementById('join-error');
    form.addEventListener('submit', function (evt) {
      evt.preventDefault();
      error.hidden = true;
      var button = document.getElementById('join-btn');
      button.disabled = true;
      var joining = { name: form.elements.name.value.trim() };
      var member = form.elements.member_code && form.elements.member_code.value.trim();
      if (member) joining.member_code = member;   // a recurring group's member (groups.js keeps it)
      fetch('/api/sessions/' + encodeURIComponent(code) + '/participants', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(joining)
      }).then(function (res) {
        return res.json().then(function (body) { return { ok: res.ok, body: body }; });
      }).then(function (r) {
        if (!r.ok) throw new Error((r.body && r.body.error && r.body.error.message) || 'Could not join.');
        store.set('tp:token:' + code, r.body.token);
        form.dispatchEvent(new CustomEvent('tp:joined', { detail: r.body }));
        location.reload();
      }).catch(function (e) {
        button.disabled = false;
        error.textContent = navigator.onLine === false ? 'You are offline. Try again when you have a connection.'
          : (e.message || 'Could not join.').replace(/^./, function (c) { return c.toUpperCase(); });
        error.hidden = false;
      });
    });
  }

  function safeStorage() {
    try {
      localStorage.setItem('tp:probe', '1');
      localStorage.removeItem('tp:probe');
      return {
        get: function (k) { return localStorage.getItem(k); },
        set: function (k, v) { localStorage.setItem(k, v); },
        remove: function (k) { localStorage.removeItem(k); }
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
})();
