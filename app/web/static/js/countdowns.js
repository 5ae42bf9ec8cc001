/* Countdowns run here, from each clock's ends_at and the server's clock offset: the server
 * sends no per-second messages. Also what shows or hides at a moment (data-hide-at,
 * data-show-at: "Overtime" once a phase's time is up). */

var offsets = [];
var offset = 0;       // server clock minus ours, in seconds
var listeners = [];

export function fmt(seconds) {
  var whole = Math.max(0, Math.ceil(seconds - 1e-6));
  var s = whole % 60;
  return Math.floor(whole / 60) + ':' + (s < 10 ? '0' : '') + s;
}

export function remainingOf(el) {
  if (el.dataset.frozen !== undefined) return parseFloat(el.dataset.frozen);
  return parseFloat(el.dataset.endsAt) - (Date.now() / 1000 + offset);
}

// A message that brought #clock again: it left the server moments ago, and the largest recent
// offset has the least delay in it.
export function setClock(message) {
  var clock = document.getElementById('clock');
  if (clock && clock.dataset.serverTime && message.indexOf('id="clock"') >= 0) {
    offsets.push(parseFloat(clock.dataset.serverTime) - Date.now() / 1000);
    if (offsets.length > 8) offsets.shift();
    offset = Math.max.apply(null, offsets);
  }
}

export function tick() {
  var clocks = document.querySelectorAll('[data-ends-at]');
  for (var i = 0; i < clocks.length; i++) {
    var left = remainingOf(clocks[i]);
    var text = fmt(left);
    if (clocks[i].textContent !== text) clocks[i].textContent = text;
    clocks[i].classList.toggle('low', left <= 10);
  }
  var expiring = document.querySelectorAll('[data-hide-at]');
  for (var j = 0; j < expiring.length; j++) {
    expiring[j].hidden = parseFloat(expiring[j].dataset.hideAt) <= Date.now() / 1000 + offset;
  }
  var due = document.querySelectorAll('[data-show-at]');  // e.g. "Overtime" once the phase's time is up
  for (var k = 0; k < due.length; k++) {
    due[k].hidden = parseFloat(due[k].dataset.showAt) > Date.now() / 1000 + offset;
  }
  listeners.forEach(function (listener) { listener(); });
}

// ``listener`` runs after every tick (four times a second, and after every message).
export function everyTick(listener) { listeners.push(listener); }

export function startTicking() { setInterval(tick, 250); }
