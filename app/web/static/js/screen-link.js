/* The console's link to the screen, with the screen's key this device keeps, in the room's
 * language or the one chosen here for the screen. */
import { store, keys } from './storage.js';

export function screenLink(code) {
  var screenKey = store.get(keys.screen(code));
  var link = document.getElementById('screen-link');
  var missing = document.getElementById('screen-missing');
  if (!link) return;
  if (screenKey) {
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
