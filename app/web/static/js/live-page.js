/* Which live page this is (the console, a phone or the screen: #main's data-role) and the
 * credential it connects with. The console and the screen read theirs from the URL fragment
 * (#key=...), which the server never sees; the phone keeps its participant token on this
 * device after joining. */
import { store, keys } from './storage.js';

export function livePage() {
  var root = document.getElementById('main');
  var role = root && root.dataset.role;
  if (!role) return null;
  var code = root.dataset.code;
  var token = null, asConsole = false;
  if (role === 'participant') {
    token = store.get(keys.token(code));
  } else {
    var params = new URLSearchParams(location.hash.slice(1));
    token = params.get('key');
    if (params.get('screen')) store.set(keys.screen(code), params.get('screen'));
    // A participant handed the facilitation opens the console with their own phone's token
    // (#as=me): it never appears in a link or on anyone else's screen.
    asConsole = role === 'facilitator' && !token && params.get('as') === 'me';
    if (asConsole) token = store.get(keys.token(code));
  }
  return { root: root, role: role, code: code, token: token, asConsole: asConsole };
}
