/* Joining on the phone: the name (and a recurring group's member code) go to the session,
 * the phone keeps the token it gets and the page opens the room. door.js takes the form over
 * when the room is locked. */
import { store, keys } from './storage.js';
import { sendJSON, json } from './api.js';
import { t, lang, codes, refusal } from './words.js';

export function joinForm(code) {
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
      return sendJSON('/api/sessions/' + encodeURIComponent(code) + '/participants', null, joining).then(function (res) {
        // A room joining from one network (a hospital's Wi-Fi) is let in at a steady pace past
        // its first places: the phone waits its turn and asks again instead of showing an error.
        var wait = Number(res.headers.get('Retry-After'));
        if (res.status === 429 && wait > 0 && wait <= 10 && Date.now() + wait * 1000 < until) {
          return new Promise(function (resolve) {
            setTimeout(resolve, wait * 1000 * (1 + Math.random() / 2));
          }).then(ask);
        }
        return json(res);
      });
    }
    ask().then(function (body) {
      store.set(keys.token(code), body.token);
      form.dispatchEvent(new CustomEvent('tp:joined', { detail: body }));
      location.reload();
    }).catch(function (e) {
      // The door closed since the page loaded (locked, full, ended): the page says which, in its language.
      var reasons = codes().reasons;
      if (e.status === 409 && [reasons.session_locked, reasons.session_full, reasons.session_closed].indexOf(e.reason) >= 0) { location.reload(); return; }
      button.disabled = false;
      // The API's message is English, for programs: other languages get the page's own sentence.
      var said = (e.status && refusal(e)) || (e.status && lang === 'en' && e.apiMessage) || t('could_not_join');
      error.textContent = navigator.onLine === false ? t('join_offline')
        : said.replace(/^./, function (c) { return c.toUpperCase(); });
      error.hidden = false;
    });
  });
  // Until now a tap on Join would have done nothing (the form is method="dialog"): the page
  // offers it once it can send it.
  document.getElementById('join-btn').disabled = false;
}
