/* What every live page (console, phone, screen) does with its socket's messages: the outbox
 * learns what was acknowledged, the clock its offset, focus stays where it was when the
 * region holding it was swapped, the countdowns and local times are brought up to date; then
 * the page's own ``afterMessage``. */
import { connect, acknowledge } from './socket.js';
import { setClock, tick, startTicking } from './countdowns.js';
import { localTimes } from './words.js';
import { replyButtons } from './replies.js';

export function goLive(live, options) {
  var root = live.root;
  var focusedId = null;
  connect(live, options.onBadToken);
  root.addEventListener('htmx:wsBeforeMessage', function () {
    var active = document.activeElement;
    focusedId = active && active !== document.body && active.id ? active.id : null;
  });
  root.addEventListener('htmx:wsAfterMessage', function (evt) {
    var message = evt.detail.message || '';
    acknowledge(message);
    setClock(message);
    if (focusedId && (!document.activeElement || document.activeElement === document.body)) {
      var again = document.getElementById(focusedId);
      if (again) again.focus({ preventScroll: true });
    }
    tick();
    localTimes(document);
    if (options.afterMessage) options.afterMessage();
  });
  startTicking();
  replyButtons();
}
