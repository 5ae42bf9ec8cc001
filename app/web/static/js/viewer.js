/* What is this phone's own, applied to regions every phone in the room shares.
 *
 * The server renders each live region once for everyone who sees the same thing (the same
 * room or group, role and language), and sends each phone its own data apart, in the small
 * #viewer region: who this phone is (data-pid), the name it joined with (data-name), what this
 * moment asks of it (data-focus), its place in the queue (data-queue), until when it may undo
 * a pass (data-undo) and its flags (data-is: "turn", "next", "hand", "voted-<item>"...). This
 * script puts that data where the shared regions leave room for it, after every message and
 * before the page's other scripts read it:
 * - a region marked [data-parts] keeps the <t-when data-when="next !answering"> parts whose
 *   words are all among the flags ("!" for not) and drops the others; it keeps the region as
 *   the server sent it, so that the parts are chosen again when only the flags change;
 * - the glance's data-my-turn, data-up-next and classes, the status line's data-focus, the
 *   queue position ([data-my-queue]), the pass's undo time ([data-my-undo]) and the status
 *   line's "· you are Ana" ([data-you-are]).
 * app/pages/regions.py, apply_viewer, states the same rule for the tests.
 */
import { t } from './words.js';

export function viewer() {
  'use strict';
  var root = document.getElementById('main');
  if (!root) return;
  var sent = new WeakMap();    // a region with parts: its HTML as the server sent it
  var chosen = new WeakMap();  // and the flags its parts were chosen for

  function words(key, params) {
    return t(key, params);
  }

  function holds(condition, flags) {
    var parts = condition.split(' ');
    for (var i = 0; i < parts.length; i++) {
      var word = parts[i];
      if (!word) continue;
      var not = word.charAt(0) === '!';
      if (flags.hasOwnProperty(not ? word.slice(1) : word) === not) return false;
    }
    return true;
  }

  function choose(region, flags, key) {
    if (chosen.get(region) === key) return;
    var again = chosen.has(region);
    if (again) region.innerHTML = sent.get(region);  // only the flags changed
    else sent.set(region, region.innerHTML);  // as it came in this message
    var parts = region.querySelectorAll('t-when');
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].isConnected && !holds(parts[i].getAttribute('data-when') || '', flags)) parts[i].remove();
    }
    chosen.set(region, key);
    if (again && window.htmx) window.htmx.process(region);  // its buttons send over the socket again
  }

  function each(selector, fn) {
    var found = root.querySelectorAll(selector);
    for (var i = 0; i < found.length; i++) fn(found[i]);
  }

  function apply() {
    var viewer = document.getElementById('viewer');
    if (!viewer) return;
    var data = viewer.dataset;
    var key = data.is || '';
    var flags = {};
    key.split(' ').forEach(function (flag) { if (flag) flags[flag] = true; });
    each('[data-parts]', function (region) { choose(region, flags, key); });
    each('[data-my-queue]', function (el) { if (el.textContent !== (data.queue || '')) el.textContent = data.queue || ''; });
    each('[data-my-undo]', function (el) { el.dataset.hideAt = data.undo || ''; });
    var status = document.getElementById('status');
    if (status) status.dataset.focus = data.focus || '';
    var glance = document.getElementById('glance');
    if (glance) {
      glance.dataset.myTurn = flags.turn ? '1' : '0';
      glance.dataset.upNext = flags.next ? '1' : '0';
      glance.classList.toggle('mine', !!flags.turn);
      glance.classList.toggle('next', !!flags.next);
      glance.classList.toggle('quiet', !!flags.quiet);
    }
    var name = data.name || '';
    each('[data-you-are]', function (spot) {
      var text = name ? ' · ' + words('you_are', { name: name }) : '';
      if (spot.textContent !== text) spot.textContent = text;
    });
  }

  // Captured at the document: before the scripts listening on #main read the turn and the focus.
  document.addEventListener('htmx:wsAfterMessage', apply, true);
  apply();
}
