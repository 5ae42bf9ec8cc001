/* What is this phone's own, applied to regions every phone in the room shares.
 *
 * The server renders each live region once for everyone who sees the same thing (the same
 * room or group, role and language), and sends each phone its own data apart, in the small
 * #viewer region: who this phone is (data-pid) and the name it joined with (data-name). This
 * script puts that data where the shared regions leave room for it, after every message: the
 * status line's "· you are Ana" ([data-you-are]). app/pages/regions.py, apply_viewer, states
 * the same rule for the tests.
 */
import { t } from './words.js';

export function viewer() {
  'use strict';
  var root = document.getElementById('main');
  if (!root) return;

  function words(key, params) {
    return t(key, params);
  }

  function apply() {
    var viewer = document.getElementById('viewer');
    var name = viewer ? viewer.dataset.name || '' : '';
    var spots = root.querySelectorAll('[data-you-are]');
    for (var i = 0; i < spots.length; i++) {
      var text = name ? ' · ' + words('you_are', { name: name }) : '';
      if (spots[i].textContent !== text) spots[i].textContent = text;
    }
  }

  root.addEventListener('htmx:wsAfterMessage', apply);
  apply();
}
