/* Single-key shortcuts: on the console a key presses the button that names it (data-key),
 * unless a modifier is held or the person is typing; on the screen J shows how to join
 * (data-shortcut). Single letters can be turned off (WCAG 2.1.4: a stray key from speech input
 * must not end someone's turn): one switch on each page, remembered on this device. Off, the
 * buttons no longer announce their keys either.
 */
import { store, keys } from './storage.js';
import { t } from './words.js';

var on = true;

function keyOf(button) {
  if (button.dataset.shortcut) return button.dataset.shortcut;
  var key = button.dataset.key;
  return key === 'N' ? 'Shift+N' : key.toUpperCase();
}

export function shortcutsOn() { return on; }

// What the page says about the keys follows the switch: after every push of the console's regions too.
function show() {
  document.body.classList.toggle('shortcuts-off', !on);
  var buttons = document.querySelectorAll('[data-key], [data-shortcut]');
  for (var i = 0; i < buttons.length; i++) {
    if (on) buttons[i].setAttribute('aria-keyshortcuts', keyOf(buttons[i]));
    else buttons[i].removeAttribute('aria-keyshortcuts');
  }
  var toggles = document.querySelectorAll('[data-shortcuts-toggle]');
  for (var j = 0; j < toggles.length; j++) {
    toggles[j].hidden = false;
    toggles[j].setAttribute('aria-pressed', on ? 'true' : 'false');
    toggles[j].textContent = on ? t('shortcuts_on') : t('shortcuts_off');
  }
}

// The switch, on a page with single-key shortcuts (the console, the screen).
export function shortcutSwitch(root) {
  on = store.get(keys.shortcuts) !== 'off';
  show();
  root.addEventListener('htmx:wsAfterMessage', function () { if (!on) show(); });
  document.addEventListener('click', function (evt) {
    if (!(evt.target.closest && evt.target.closest('[data-shortcuts-toggle]'))) return;
    on = !on;
    store.set(keys.shortcuts, on ? 'on' : 'off');
    show();
  });
}

// The console's shortcuts.
export function shortcuts(root) {
  shortcutSwitch(root);
  document.addEventListener('keydown', function (evt) {
    if (!on || evt.ctrlKey || evt.metaKey || evt.altKey || evt.repeat) return;
    var target = evt.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var button = document.querySelector('[data-key="' + (evt.key.length === 1 ? evt.key : '') + '"]');
    if (!button || button.disabled) return;
    evt.preventDefault();
    button.click();
  });
}
