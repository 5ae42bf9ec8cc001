/* Sound on the screen and the console: off by default; one toggle, remembered on this device.
 * WebAudio tones, nothing to download: a soft tone when 10 seconds of a turn are left, a
 * chime when the turn ends (at zero, or earlier when the speaker finishes and the clock goes). */
import { store, keys } from './storage.js';
import { t } from './words.js';
import { remainingOf } from './countdowns.js';

var audio = null, sounding = false, heard = {}, floorKey = null;

export function soundToggles() {
  sounding = store.get(keys.sound) === 'on';
  var toggles = document.querySelectorAll('[data-sound-toggle]');
  for (var i = 0; i < toggles.length; i++) {
    showSound(toggles[i]);
    toggles[i].addEventListener('click', function (evt) {
      sounding = !sounding;
      store.set(keys.sound, sounding ? 'on' : 'off');
      if (sounding) { ensureAudio(); tone(660, 0.12, 0.05); }
      var all = document.querySelectorAll('[data-sound-toggle]');
      for (var j = 0; j < all.length; j++) showSound(all[j]);
      evt.preventDefault();
    });
  }
}

function showSound(button) {
  button.setAttribute('aria-pressed', sounding ? 'true' : 'false');
  button.textContent = sounding ? t('sound_on') : t('sound_off');
}

function ensureAudio() {
  if (audio) { if (audio.state === 'suspended') audio.resume(); return audio; }
  var Ctx = window.AudioContext || window.webkitAudioContext;
  try { audio = Ctx ? new Ctx() : null; } catch (e) { audio = null; }
  return audio;
}

function tone(freq, seconds, volume, delay) {
  var ctx = ensureAudio();
  if (!ctx) return;
  var start = ctx.currentTime + (delay || 0);
  var osc = ctx.createOscillator(), gain = ctx.createGain();
  osc.type = 'sine';
  osc.frequency.value = freq;
  gain.gain.setValueAtTime(0.0001, start);
  gain.gain.exponentialRampToValueAtTime(volume, start + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, start + seconds);
  osc.connect(gain).connect(ctx.destination);
  osc.start(start);
  osc.stop(start + seconds + 0.05);
}

function play(kind) {
  if (!sounding) return;
  if (kind === 'warning') tone(660, 0.25, 0.05);
  else { tone(880, 0.7, 0.2); tone(1320, 0.9, 0.12, 0.18); }
}

// The floor's clock, at every tick: the warning and the chime, each once per turn.
export function listenForTurnEnds() {
  var clock = document.querySelector('.countdown.giant[data-ends-at], .countdown.huge[data-ends-at]');
  var key = clock ? clock.dataset.endsAt : null;
  if (floorKey && key !== floorKey && !heard[floorKey + ':end']) { heard[floorKey + ':end'] = true; play('chime'); }
  floorKey = key;
  if (!clock || clock.dataset.frozen !== undefined) return;
  var left = remainingOf(clock);
  if (left > 10.5) heard[key + ':armed'] = true;
  if (left <= 10 && left > 0 && heard[key + ':armed'] && !heard[key + ':warn']) { heard[key + ':warn'] = true; play('warning'); }
  if (left <= 0 && !heard[key + ':end']) { heard[key + ':end'] = true; play('chime'); }
}
