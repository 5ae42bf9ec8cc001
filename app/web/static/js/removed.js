/* A removed phone stays out until the facilitator lets it back in. It keeps its key, to
 * notice when it is let back in, and offers no way to join afresh: the same phone cannot slip
 * back in under another name. Asked through the door's status (GET …/knock), which answers
 * 200 whatever the answer, so that a phone waiting to be let back in logs no error. */
import { store, keys } from './storage.js';
import { withKey } from './api.js';
import { t } from './words.js';
import { banner } from './banner.js';
import { gone, stop } from './socket.js';

function inRoom(code, key) {
  return withKey('/api/sessions/' + encodeURIComponent(code) + '/knock', key)
    .then(function (r) { return r.ok ? r.json() : { status: r.status === 404 ? 'gone' : 'unknown' }; });
}

export function isRemoved(code) { return !!store.get(keys.removed(code)); }

// The socket refused this phone's token: removed (wait to be let back in), or out for good.
export function checkRemoved(live) {
  inRoom(live.code, live.token)
    .then(function (body) {
      if (body.status === 'admitted') { location.reload(); return; }
      if (body.status === 'removed') {
        store.set(keys.removed(live.code), '1');
        stop();
        showRemoved(live.code);
      } else {
        gone(t('no_longer_in'));
      }
    }).catch(function () { gone(t('no_longer_in')); });
}

export function showRemoved(code) {
  var key = store.get(keys.token(code));
  document.getElementById('join-panel').hidden = true;
  document.getElementById('room').hidden = true;
  document.getElementById('removed-panel').hidden = false;
  banner(null);
  if (!key) return;
  var status = document.getElementById('removed-status');
  var ask = function () {
    inRoom(code, key)
      .then(function (body) {
        if (body.status === 'admitted') { store.remove(keys.removed(code)); status.textContent = t('back_in'); location.reload(); }
        else if (body.status === 'gone') { store.remove(keys.removed(code)); status.textContent = t('session_gone'); }
        else setTimeout(ask, 4000);
      }).catch(function () { setTimeout(ask, 8000); });
  };
  setTimeout(ask, 4000);
}
