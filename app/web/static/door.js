/* The door, on the phone: asking to be let into a locked room.
 *
 * The join page says at load whether the room is locked (web/templates/phone.html). There,
 * the Join button asks to come in instead: the name goes to the facilitators, the phone keeps
 * the knock's token and asks every few seconds whether it was let in. Admitted, the token is
 * the participant's own and the page opens the room; declined, it says so.
 */
(function () {
  'use strict';

  var form = document.getElementById('join-form');
  if (!form || !window.TalkingPieceWords) return;
  var t = window.TalkingPieceWords.t;
  var code = form.dataset.code;
  var status = document.getElementById('knock-status');
  var knockKey = 'tp:knock:' + code;

  function stored(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }
  function keep(key, value) { try { if (value === null) localStorage.removeItem(key); else localStorage.setItem(key, value); } catch (e) { /* private mode */ } }
  function say(text) { status.textContent = text; status.hidden = !text; }

  function wait(token) {
    form.hidden = true;
    say(t('knock_waiting'));
    var ask = function () {
      fetch('/api/sessions/' + encodeURIComponent(code) + '/knock', { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store' })
        .then(function (r) { return r.ok ? r.json() : { status: r.status === 404 ? 'gone' : 'retry' }; })
        .then(function (body) {
          if (body.status === 'admitted') {
            keep('tp:token:' + code, token);
            keep(knockKey, null);
            location.reload();
          } else if (body.status === 'waiting' || body.status === 'retry') {
            setTimeout(ask, 3000);
          } else {
            keep(knockKey, null);
            say(body.status === 'gone' ? t('session_gone') : t('knock_declined'));
          }
        }).catch(function () { setTimeout(ask, 6000); });
    };
    setTimeout(ask, 1500);
  }

  // Capture phase: runs before the page's own join handler (app.js), which a locked door replaces.
  document.addEventListener('submit', function (evt) {
    if (evt.target !== form || form.dataset.door !== 'locked') return;
    evt.preventDefault();
    evt.stopImmediatePropagation();
    var error = document.getElementById('join-error');
    var button = document.getElementById('join-btn');
    error.hidden = true;
    button.disabled = true;
    var knocking = { name: form.elements.name.value.trim() };
    var member = form.elements.member_code && form.elements.member_code.value.trim();
    if (member) knocking.member_code = member;   // a recurring group's member, read as at a join
    fetch('/api/sessions/' + encodeURIComponent(code) + '/knocks', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(knocking)
    }).then(function (res) {
      return res.json().then(function (body) { return { ok: res.ok, status: res.status, body: body }; });
    }).then(function (r) {
      var reason = (r.body && r.body.error && r.body.error.reason) || '';
      // Unlocked meanwhile: join as anyone does. Full or closed meanwhile: the page says which.
      if (r.status === 409 && reason === 'room_open') { form.dataset.door = 'open'; button.disabled = false; form.requestSubmit(); return; }
      if (r.status === 409 && (reason === 'session_full' || reason === 'session_closed')) { location.reload(); return; }
      if (!r.ok) throw new Error(t('could_not_join'));
      keep(knockKey, r.body.token);
      // The group's member code (a newcomer's, given once; or the one typed) is kept as at a join.
      form.dispatchEvent(new CustomEvent('tp:joined', { detail: r.body }));
      wait(r.body.token);
    }).catch(function (e) {
      button.disabled = false;
      error.textContent = navigator.onLine === false ? t('join_offline') : (e.message || t('could_not_join'));
      error.hidden = false;
    });
  }, true);

  var waiting = stored(knockKey);
  if (waiting && !stored('tp:token:' + code)) wait(waiting);
})();
