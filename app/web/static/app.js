/* Talking Piece: the little the pages need beyond htmx and its WebSocket extension.
 *
 * - tokens: the console and screen read theirs from the URL fragment (#key=...); the phone
 *   keeps its participant token in localStorage after joining;
 * - countdowns run here from ends_at and the server's clock offset (no per-second messages);
 * - every command gets an id and waits in an outbox (localStorage on the phone) until the
 *   server acknowledges it; unacknowledged commands are sent again on reconnect and the
 *   server applies each id once;
 * - a quiet "reconnecting" banner; the server pushes every region again on connect;
 * - "your turn" and "up next": vibration (or a visual cue where a phone cannot vibrate), a
 *   screen wake lock and an announcement for screen readers; the screen keeps awake in a round;
 * - each reply lands next to the control that sent it and stays until read; typed text is
 *   cleared only once the server has accepted it;
 * - the phone's focus (what this moment asks, from the phase's purpose) orders its sections
 *   and opens the matching fold;
 * - an optional chime at a turn's end and a soft tone before it (screen and console);
 * - a removed phone stays out until the facilitator lets it back in;
 * - keyboard shortcuts on the console.
 */
(function () {
  'use strict';

  var root = document.getElementById('main');
  var role = root && root.dataset.role;
  if (!role) return;
  var code = root.dataset.code;
  // Visible words come from the page, in its language (web/templates/_script_words.html).
  var t = window.TalkingPieceWords.t;
  // Close codes and refusal reasons, from the server's one list (app/realtime/close_codes.py).
  var codesEl = document.getElementById('script-codes');
  var CODES = codesEl ? JSON.parse(codesEl.textContent) : { close: {}, reasons: {} };
  var pageLang = window.TalkingPieceWords.lang;
  var timeLocale = window.TalkingPieceWords.locale();
  function number(n) { try { return n.toLocaleString(timeLocale); } catch (e) { return String(n); } }
  var store = safeStorage();
  // Sound (screen and console): declared first, as setupSound runs before the code below it.
  var audio = null, sounding = false, heard = {}, floorKey = null;

  // ---------------------------------------------------------------- tokens
  var token = null;
  if (role === 'participant') {
    token = store.get('tp:token:' + code);
  } else {
    var params = new URLSearchParams(location.hash.slice(1));
    token = params.get('key');
    if (params.get('screen')) store.set('tp:screen:' + code, params.get('screen'));
    // A participant handed the facilitation opens the console with their own phone's token
    // (#as=me): it never appears in a link or on anyone else's screen.
    var asConsole = role === 'facilitator' && !token && params.get('as') === 'me';
    if (asConsole) token = store.get('tp:token:' + code);
  }

  if (role === 'facilitator') showScreenLink();
  localTimes();
  setupSound();
  if (role === 'participant' && store.get('tp:removed:' + code)) { showRemoved(); return; }
  if (role === 'participant' && !token) { setupJoin(); return; }
  if (!token) { banner(t('missing_key'), true); return; }
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
  root.setAttribute('ws-connect', root.dataset.live + '?token=' + encodeURIComponent(token) + (asConsole ? '&as=console' : '') + '&lang=' + encodeURIComponent(pageLang));

  // ---------------------------------------------------------------- outbox
  var outboxKey = 'tp:outbox:' + code + ':' + role + ':' + token.slice(0, 8);
  var outbox = (function () { try { return JSON.parse(store.get(outboxKey) || '[]'); } catch (e) { return []; } })();
  var DAY = 86400000;
  outbox = outbox.filter(function (entry) { return Date.now() - entry.at < DAY; });
  var socket = null;      // the extension's socket wrapper, once seen
  var connected = false;
  var slots = {};         // command id -> the .replies slot beside the control that sent it
  var clearing = {};      // command id -> the field to empty once the server accepted it

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
    var form = evt.target.closest('form');
    if (form) {
      slots[message.cid] = slotFor(form);
      if (form.dataset.clear) clearing[message.cid] = form.dataset.clear;
    }
    if (canSend()) socket.sendImmediately(JSON.stringify(message));
    else {
      showConnection();
      placeReply(slots[message.cid], note(t('not_sent_yet'), 'notice waiting'));
    }
  });

  // ---------------------------------------------------------------- replies beside their controls
  function note(text, cls) {
    var p = document.createElement('p');
    p.className = cls;
    p.textContent = text;
    return p;
  }
  // The nearest .replies slot: inside the form's own box, or right after the region it sits in.
  function slotFor(form) {
    var inside = form.closest('.replies');
    if (inside) return inside;
    for (var el = form; el && el !== root; el = el.parentElement) {
      var own = el.querySelector(':scope > .replies');
      if (own) return own;
      var next = el.nextElementSibling;
      if (next && next.classList.contains('replies')) return next;
    }
    return null;
  }
  function placeReply(slot, node) {
    if (!slot) return false;
    if (!node.querySelector('[data-dismiss]') && !node.classList.contains('waiting')) {
      var ok = document.createElement('button');
      ok.type = 'button';
      ok.className = 'btn small dismiss';
      ok.setAttribute('data-dismiss', '');
      ok.textContent = t('ok');
      node.appendChild(ok);
    }
    slot.replaceChildren(node);
    return true;
  }
  function routeReplies() {
    var notice = document.getElementById('notice');
    if (!notice) return;
    var replies = notice.querySelectorAll('[data-reply-id]');
    for (var i = 0; i < replies.length; i++) {
      var reply = replies[i];
      var cid = reply.dataset.replyId;
      var slot = slots[cid];
      var accepted = reply.hasAttribute('data-reply-ok');
      if (accepted && clearing[cid]) {
        var field = document.getElementById(clearing[cid]);
        if (field) field.value = '';
      }
      var guardForm = reply.querySelector('form[ws-send]');
      if (guardForm && clearing[cid]) guardForm.dataset.clear = clearing[cid];  // "send as it is" clears it once accepted
      delete clearing[cid];
      delete slots[cid];
      if (accepted && !reply.textContent.trim()) {   // nothing to say: the page itself shows what changed
        reply.remove();
        if (slot) slot.replaceChildren();
        continue;
      }
      if (slot && document.contains(slot)) placeReply(slot, reply);
      // Otherwise (sent before a reload) it stays in #notice, near the top of the page.
    }
  }


  function acknowledge(message) {
    routeReplies();
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
    if (closeCode === CODES.close.bad_token && role === 'participant') return checkRemoved();
    if (closeCode === CODES.close.bad_token) return gone(t('link_not_valid'));
    if (closeCode === CODES.close.gone) return gone(t('session_gone'));
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
      banner(text + ' ', true, { label: t('join_again'), href: location.pathname });
    } else {
      banner(text, true);
    }
    root.removeAttribute('ws-connect');
  }

  function showConnection() {
    if (fatal) return;
    var waiting = outbox.length;
    if (canSend()) { banner(null); return; }
    var text = navigator.onLine === false ? t('offline') : t('reconnecting');
    if (waiting) text += ' ' + t('waiting_to_send', { count: number(waiting) });
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
    localTimes();
    if (role === 'participant') { watchTurn(); followFocus(); }
    if (role === 'screen') keepAwakeInRound();
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
    var expiring = document.querySelectorAll('[data-hide-at]');
    for (var j = 0; j < expiring.length; j++) {
      expiring[j].hidden = parseFloat(expiring[j].dataset.hideAt) <= Date.now() / 1000 + offset;
    }
    var due = document.querySelectorAll('[data-show-at]');  // e.g. "Overtime" once the phase's time is up
    for (var k = 0; k < due.length; k++) {
      due[k].hidden = parseFloat(due[k].dataset.showAt) > Date.now() / 1000 + offset;
    }
    listenForTurnEnds();
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
      announce(clockEl ? t('your_turn_left', { time: fmt(remainingOf(clockEl)) }) : t('your_turn'));
      buzz(glance, [200, 100, 200]);
      lockScreen();
    } else if (next && !wasNext && !mine) {
      announce(t('up_next'));
      buzz(glance, [80]);
    }
    if (!mine && wasMine) releaseScreen();
    wasMine = mine;
    wasNext = next;
  }
  // Vibration where the phone can (Android); a visual cue where it cannot (iOS has no vibrate).
  function buzz(glance, pattern) {
    var shaken = false;
    // Before the person has touched the page the browser refuses (and logs) a vibration: cue instead.
    var touched = !navigator.userActivation || navigator.userActivation.hasBeenActive;
    if (typeof navigator.vibrate === 'function' && touched) {
      try { shaken = navigator.vibrate(pattern) !== false; } catch (e) { shaken = false; }
    }
    if (!shaken) {
      glance.classList.remove('cue');
      void glance.offsetWidth;  // restart the animation
      glance.classList.add('cue');
      setTimeout(function () { glance.classList.remove('cue'); }, 4000);
    }
  }

  // The phone's focus: what this moment asks of this person (from the phase's purpose).
  var FOLDS = { write: 'fold-write', actions: 'fold-actions', evaluation: 'fold-evaluation', notes: 'fold-reflection' };
  var focus = null, autoOpened = null, phaseSeen = null;
  function followFocus() {
    var status = document.getElementById('status');
    var room = document.getElementById('room');
    if (!status || !room) return;
    var phaseNow = status.dataset.phase || '';
    if (phaseNow !== phaseSeen) {  // a new phase: replies that were read are of the last one
      if (phaseSeen !== null) {
        var old = room.querySelectorAll('.replies');
        for (var i = 0; i < old.length; i++) if (!old[i].querySelector('.error, .waiting')) old[i].replaceChildren();
      }
      phaseSeen = phaseNow;
    }
    var now = status.dataset.focus || '';
    if (now === focus) return;
    focus = now;
    room.dataset.focus = now;
    if (autoOpened && !hasText(autoOpened)) {  // folded again unless something is being written in it
      if (autoOpened.contains(document.activeElement)) document.activeElement.blur();
      autoOpened.open = false;
    }
    autoOpened = null;
    var fold = FOLDS[now] && document.getElementById(FOLDS[now]);
    if (fold && !fold.open) { fold.open = true; autoOpened = fold; }
  }
  function hasText(el) {
    var fields = el.querySelectorAll('textarea, input[type=text], input:not([type])');
    for (var i = 0; i < fields.length; i++) if (fields[i].value.trim()) return true;
    return false;
  }

  // The screen: awake for as long as a round runs (a projector must not dim mid-turn).
  var roundLock = null;
  function keepAwakeInRound() {
    var order = document.getElementById('order');
    var running = order && order.dataset.round === '1';
    if (running && !roundLock && 'wakeLock' in navigator) {
      roundLock = 'asking';
      navigator.wakeLock.request('screen').then(function (lock) {
        roundLock = lock;
        lock.addEventListener('release', function () { if (roundLock === lock) roundLock = null; });
      }).catch(function () { roundLock = null; });
    } else if (!running && roundLock && roundLock !== 'asking') {
      roundLock.release().catch(function () {});
      roundLock = null;
    }
  }
  document.addEventListener('visibilitychange', function () {
    if (role === 'screen' && document.visibilityState === 'visible') { roundLock = null; keepAwakeInRound(); }
  });

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
    var dismiss = evt.target.closest('[data-dismiss]');
    if (dismiss) {
      var box = dismiss.closest('.replies, #notice');
      if (box) box.replaceChildren();
      return;
    }
    var restore = evt.target.closest('[data-restore-target]');
    if (!restore) return;
    var field = document.getElementById(restore.dataset.restoreTarget);
    if (field) {
      if (!field.value.trim()) field.value = restore.dataset.restoreText || '';  // typed text is kept: after a reload it comes back
      var fold = field.closest('details');
      if (fold) fold.open = true;
      field.focus();
    }
    var slot = restore.closest('.replies, #notice');
    if (slot) slot.replaceChildren();
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

  // ---------------------------------------------------------------- removed from the session
  // A removed phone keeps its key, to notice when the facilitator lets it back in, and offers
  // no way to join afresh: the same phone cannot slip back in under another name.
  // Asked through the door's status (GET …/knock), which answers 200 whatever the answer, so
  // that a phone waiting to be let back in logs no error.
  function inRoom(key) {
    return fetch('/api/sessions/' + encodeURIComponent(code) + '/knock', { headers: { Authorization: 'Bearer ' + key }, cache: 'no-store' })
      .then(function (r) { return r.ok ? r.json() : { status: r.status === 404 ? 'gone' : 'unknown' }; });
  }
  function checkRemoved() {
    inRoom(token)
      .then(function (body) {
        if (body.status === 'admitted') { location.reload(); return; }
        if (body.status === 'removed') {
          store.set('tp:removed:' + code, '1');
          fatal = true;
          root.removeAttribute('ws-connect');
          showRemoved();
        } else {
          gone(t('no_longer_in'));
        }
      }).catch(function () { gone(t('no_longer_in')); });
  }
  function showRemoved() {
    var key = store.get('tp:token:' + code);
    document.getElementById('join-panel').hidden = true;
    document.getElementById('room').hidden = true;
    document.getElementById('removed-panel').hidden = false;
    banner(null);
    if (!key) return;
    var status = document.getElementById('removed-status');
    var ask = function () {
      inRoom(key)
        .then(function (body) {
          if (body.status === 'admitted') { store.remove('tp:removed:' + code); status.textContent = t('back_in'); location.reload(); }
          else if (body.status === 'gone') { store.remove('tp:removed:' + code); status.textContent = t('session_gone'); }
          else setTimeout(ask, 4000);
        }).catch(function () { setTimeout(ask, 8000); });
    };
    setTimeout(ask, 4000);
  }

  // ---------------------------------------------------------------- times in the viewer's own clock
  function localTimes() { window.TalkingPieceWords.localTimes(document); }

  // ---------------------------------------------------------------- sound (screen and console)
  // Off by default; one toggle, remembered on this device. WebAudio tones: nothing to download.
  function setupSound() {
    sounding = store.get('tp:sound') === 'on';
    var toggles = document.querySelectorAll('[data-sound-toggle]');
    for (var i = 0; i < toggles.length; i++) {
      showSound(toggles[i]);
      toggles[i].addEventListener('click', function (evt) {
        sounding = !sounding;
        store.set('tp:sound', sounding ? 'on' : 'off');
        if (sounding) { ensureAudio(); tone(660, 0.12, 0.05); }
        var all = document.querySelectorAll('[data-sound-toggle]');
        for (var j = 0; j < all.length; j++) showSound(all[j]);
        evt.preventDefault();
      });
    }
  }
  function showSound(button) {
    button.setAttribute('aria-pressed', sounding ? 'true' : 'false');
    button.textContent = sounding ? t('sound_on') : t('sound_off');
  }
  function ensureAudio() {
    if (audio) { if (audio.state === 'suspended') audio.resume(); return audio; }
    var Ctx = window.AudioContext || window.webkitAudioContext;
    try { audio = Ctx ? new Ctx() : null; } catch (e) { audio = null; }
    return audio;
  }
  function tone(freq, seconds, volume, delay) {
    var ctx = ensureAudio();
    if (!ctx) return;
    var start = ctx.currentTime + (delay || 0);
    var osc = ctx.createOscillator(), gain = ctx.createGain();
    osc.type = 'sine';
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(volume, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + seconds);
    osc.connect(gain).connect(ctx.destination);
    osc.start(start);
    osc.stop(start + seconds + 0.05);
  }
  function play(kind) {
    if (!sounding) return;
    (window.tpSounds = window.tpSounds || []).push(kind);  // what was played, for anyone checking
    if (kind === 'warning') tone(660, 0.25, 0.05);
    else { tone(880, 0.7, 0.2); tone(1320, 0.9, 0.12, 0.18); }
  }
  // The floor's clock: a soft tone when 10 seconds are left, a chime when the turn ends
  // (at zero, or earlier when the speaker finishes and the clock goes).
  function listenForTurnEnds() {
    if (role !== 'screen' && role !== 'facilitator') return;
    var clock = document.querySelector('.countdown.giant[data-ends-at], .countdown.huge[data-ends-at]');
    var key = clock ? clock.dataset.endsAt : null;
    if (floorKey && key !== floorKey && !heard[floorKey + ':end']) { heard[floorKey + ':end'] = true; play('chime'); }
    floorKey = key;
    if (!clock || clock.dataset.frozen !== undefined) return;
    var left = remainingOf(clock);
    if (left > 10.5) heard[key + ':armed'] = true;
    if (left <= 10 && left > 0 && heard[key + ':armed'] && !heard[key + ':warn']) { heard[key + ':warn'] = true; play('warning'); }
    if (left <= 0 && !heard[key + ':end']) { heard[key + ':end'] = true; play('chime'); }
  }

  // ---------------------------------------------------------------- helpers
  function showScreenLink() {
    var screenKey = store.get('tp:screen:' + code);
    var link = document.getElementById('screen-link');
    var missing = document.getElementById('screen-missing');
    if (!link) return;
    if (screenKey) {
      // The screen's language: the room's (the session's), or the one chosen here for it.
      var choice = document.getElementById('screen-language');
      var show = function () {
        var lang = choice && choice.value ? '?lang=' + encodeURIComponent(choice.value) : '';
        link.href = '/screen/' + code + lang + '#key=' + encodeURIComponent(screenKey);
      };
      show();
      if (choice) { choice.hidden = false; choice.parentNode.hidden = false; choice.addEventListener('change', show); }
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
      var until = Date.now() + 180000;
      function ask() {
        return fetch('/api/sessions/' + encodeURIComponent(code) + '/participants', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(joining)
        }).then(function (res) {
          // A room joining from one network (a hospital's Wi-Fi) is let in at a steady pace past
          // its first places: the phone waits its turn and asks again instead of showing an error.
          var wait = Number(res.headers.get('Retry-After'));
          if (res.status === 429 && wait > 0 && wait <= 10 && Date.now() + wait * 1000 < until) {
            return new Promise(function (resolve) {
              setTimeout(resolve, wait * 1000 * (1 + Math.random() / 2));
            }).then(ask);
          }
          return res.json().then(function (body) { return { ok: res.ok, status: res.status, body: body }; });
        });
      }
      ask().then(function (r) {
        // The door closed since the page loaded (locked, full, ended): the page says which, in its language.
        var reason = (r.body && r.body.error && r.body.error.reason) || '';
        if (r.status === 409 && ['session_locked', 'session_full', 'session_closed'].indexOf(reason) >= 0) { location.reload(); return; }
        // The API's message is English, for programs: other languages get the page's own sentence.
        if (!r.ok) throw new Error(window.TalkingPieceWords.refusal(r.body && r.body.error) ||
          (pageLang === 'en' && r.body && r.body.error && r.body.error.message) || t('could_not_join'));
        store.set('tp:token:' + code, r.body.token);
        form.dispatchEvent(new CustomEvent('tp:joined', { detail: r.body }));
        location.reload();
      }).catch(function (e) {
        button.disabled = false;
        error.textContent = navigator.onLine === false ? t('join_offline')
          : (e.message || t('could_not_join')).replace(/^./, function (c) { return c.toUpperCase(); });
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
