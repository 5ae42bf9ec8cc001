/* The screen stays awake for as long as a round runs: a projector must not dim mid-turn. */

var roundLock = null;

export function keepAwakeInRound() {
  var order = document.getElementById('order');
  var running = order && order.dataset.round === '1';
  if (running && !roundLock && 'wakeLock' in navigator) {
    roundLock = 'asking';
    navigator.wakeLock.request('screen').then(function (lock) {
      roundLock = lock;
      lock.addEventListener('release', function () { if (roundLock === lock) roundLock = null; });
    }).catch(function () { roundLock = null; });
  } else if (!running && roundLock && roundLock !== 'asking') {
    roundLock.release().catch(function () {});
    roundLock = null;
  }
}

// The browser lets a wake lock go when the page is hidden: asked again on return.
export function awakeAgainWhenVisible() {
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible') { roundLock = null; keepAwakeInRound(); }
  });
}
