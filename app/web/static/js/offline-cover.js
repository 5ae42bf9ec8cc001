/* Offline is honest: a phone whose live socket has been gone for a few seconds says so in
 * place of the floor and its clock (web/templates/phone.html, #offline-cover), instead of
 * counting down a turn that may have ended. Once the socket is back the server pushes every
 * region again (the page catches up) and the cover goes. A blip shorter than GRACE shows nothing.
 */
import { codes } from './words.js';

var GRACE = 4000;

export function offlineCover(root) {
  var cover = document.getElementById('offline-cover');
  if (!root || !cover) return;
  var open = false, timer = null;

  function lost() {
    if (timer !== null || !cover.hidden) return;
    timer = setTimeout(function () {
      timer = null;
      if (open && navigator.onLine !== false) return;
      document.body.classList.add('is-offline');
      cover.hidden = false;
    }, GRACE);
  }
  function back() {
    if (timer !== null) { clearTimeout(timer); timer = null; }
    document.body.classList.remove('is-offline');
    cover.hidden = true;
  }

  root.addEventListener('htmx:wsOpen', function () { open = true; if (navigator.onLine !== false) back(); });
  root.addEventListener('htmx:wsClose', function (evt) {
    open = false;
    var closed = evt.detail && evt.detail.event && evt.detail.event.code;
    var close = codes().close;
    if (closed === close.bad_token || closed === close.gone) return;   // not offline: the page says what happened
    lost();
  });
  window.addEventListener('offline', lost);
  window.addEventListener('online', function () { if (open) back(); });
}
