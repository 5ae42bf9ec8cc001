/* The door, on the phone: asking to be let into a locked room.
 *
 * The join page says at load whether the room is locked (web/templates/phone.html). There,
 * the Join button asks to come in instead: the name goes to the facilitators, the phone keeps
 * the knock's token and asks every few seconds whether it was let in. Admitted, the token is
 * the participant's own and the page opens the room; declined, it says so.
 */
import { store, keys } from './storage.js';
import { withKey, sendJSON, json } from './api.js';
import { t, codes } from './words.js';

export function door() {
  var form = document.getElementById('join-form');
  if (!form) return;
  var code = form.dataset.code;
  var status = document.getElementById('knock-status');
  var knockKey = keys.knock(code);

  function say(text) { status.textContent = text; status.hidden = !text; }

  function wait(token) {
    form.hidden = true;
    say(t('knock_waiting'));
    var ask = function () {
      withKey('/api/sessions/' + encodeURIComponent(code) + '/knock', token)
        .then(function (r) { return r.ok ? r.json() : { status: r.status === 404 ? 'gone' : 'retry' }; })
        .then(function (body) {
          if (body.status === 'admitted') {
            store.set(keys.token(code), token);
            store.remove(knockKey);
            location.reload();
          } else if (body.status === 'waiting' || body.status === 'retry') {
            setTimeout(ask, 3000);
          } else {
            store.remove(knockKey);
            // Turned away: a member code given at this door was never the group's (groups.js forgets it).
            if (body.status === 'declined') form.dispatchEvent(new CustomEvent('tp:turned-away'));
            say(body.status === 'gone' ? t('session_gone') : t('knock_declined'));
          }
        }).catch(function () { setTimeout(ask, 6000); });
    };
    setTimeout(ask, 1500);
  }

  // Capture phase: runs before the page's own join handler (join.js), which a locked door replaces.
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
    sendJSON('/api/sessions/' + encodeURIComponent(code) + '/knocks', null, knocking)
      .then(json)
      .then(function (body) {
        store.set(knockKey, body.token);
        // The group's member code (a newcomer's, given once; or the one typed) is kept as at a join.
        form.dispatchEvent(new CustomEvent('tp:joined', { detail: body }));
        wait(body.token);
      }).catch(function (e) {
        var reasons = codes().reasons;
        // Unlocked meanwhile: join as anyone does. Full or closed meanwhile: the page says which.
        if (e.reason === reasons.room_open) { form.dataset.door = 'open'; button.disabled = false; form.requestSubmit(); return; }
        if (e.reason === reasons.session_full || e.reason === reasons.session_closed) { location.reload(); return; }
        button.disabled = false;
        error.textContent = navigator.onLine === false ? t('join_offline') : t('could_not_join');
        error.hidden = false;
      });
  }, true);

  var waiting = store.get(knockKey);
  if (waiting && !store.get(keys.token(code))) wait(waiting);
}
