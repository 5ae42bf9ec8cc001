/* "Your turn" and "up next" on the phone: vibration (or a visual cue where a phone cannot
 * vibrate), a screen wake lock while it is this person's turn, and an announcement for
 * screen readers. */
import { t } from './words.js';
import { fmt, remainingOf } from './countdowns.js';

var wasMine = false, wasNext = false, wakeLock = null;

export function watchTurn() {
  var glance = document.getElementById('glance');
  if (!glance) return;
  var mine = glance.dataset.myTurn === '1';
  var next = glance.dataset.upNext === '1';
  if (mine && !wasMine) {
    var clockEl = glance.querySelector('[data-ends-at]');
    announce(clockEl ? t('your_turn_left', { time: fmt(remainingOf(clockEl)) }) : t('your_turn'));
    buzz(glance, [200, 100, 200]);
    lockScreen();
  } else if (next && !wasNext && !mine) {
    announce(t('up_next'));
    buzz(glance, [80]);
  }
  if (!mine && wasMine) releaseScreen();
  wasMine = mine;
  wasNext = next;
}

// Back on the page in the middle of one's turn: awake again.
export function relockWhenVisible() {
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible' && wasMine) lockScreen();
  });
}

// Vibration where the phone can (Android); a visual cue where it cannot (iOS has no vibrate).
function buzz(glance, pattern) {
  var shaken = false;
  // Before the person has touched the page the browser refuses (and logs) a vibration: cue instead.
  var touched = !navigator.userActivation || navigator.userActivation.hasBeenActive;
  if (typeof navigator.vibrate === 'function' && touched) {
    try { shaken = navigator.vibrate(pattern) !== false; } catch (e) { shaken = false; }
  }
  if (!shaken) {
    glance.classList.remove('cue');
    void glance.offsetWidth;  // restart the animation
    glance.classList.add('cue');
    setTimeout(function () { glance.classList.remove('cue'); }, 4000);
  }
}

function announce(text) {
  var el = document.getElementById('announcer');
  if (!el) return;
  el.textContent = '';
  setTimeout(function () { el.textContent = text; }, 50);
}

function lockScreen() {
  if (!('wakeLock' in navigator) || wakeLock) return;
  navigator.wakeLock.request('screen').then(function (lock) {
    wakeLock = lock;
    lock.addEventListener('release', function () { wakeLock = null; });
  }).catch(function () { /* the phone said no: fine */ });
}

function releaseScreen() {
  if (wakeLock) { wakeLock.release().catch(function () {}); wakeLock = null; }
}
