/* The start page lists the sessions this device runs (the consoles it remembered, way-back.js)
 * and reopens their consoles. */
import { consoles } from './storage.js';
import { t, locale } from './words.js';
import { consoleLink } from './way-back.js';

export function mySessions() {
  var mine = document.getElementById('my-sessions');
  if (!mine) return;
  var list = mine.querySelector('ul');
  var show = function () {
    var sessions = consoles.all();
    list.replaceChildren();
    sessions.forEach(function (s) {
      var li = document.createElement('li');
      var a = document.createElement('a');
      a.href = consoleLink(s);
      a.textContent = (s.title || s.code) + ' (' + s.code + ')';
      var when = document.createElement('span');
      when.className = 'hint';
      try { when.textContent = ' ' + new Date(s.at).toLocaleDateString(locale(), { day: 'numeric', month: 'short' }) + ' '; } catch (e) { when.textContent = ' '; }
      var drop = document.createElement('button');
      drop.type = 'button';
      drop.className = 'btn small';
      drop.textContent = t('forget');
      drop.setAttribute('aria-label', t('forget_session', { title: s.title || s.code }));
      drop.addEventListener('click', function () { consoles.forget(s.code); show(); });
      li.append(a, when, drop);
      list.appendChild(li);
    });
    mine.hidden = sessions.length === 0;
  };
  show();
}
