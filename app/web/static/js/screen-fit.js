/* The projector's screen fits the screen.
 *
 * - whatever the room is shown, the document is never taller or wider than the window: when
 *   the content (a long evaluation, a round of twenty) needs more, the page is zoomed out just
 *   enough, measured again after every change the socket brings and on every resize;
 * - the operator's tools (the sound switch, the language picker) stay out of the room's view
 *   until the pointer nears the bottom edge or the keyboard reaches them;
 * - the join code and its QR code come back on demand for a late joiner (J, unless the tools'
 *   switch turned single keys off, or the tools' button; Escape or a click puts them away).
 * Sizes are set through the CSSOM (element.style), which the strict CSP allows.
 */
import { shortcutsOn } from './shortcuts.js';

export function screenFit() {

  var root = document.getElementById('main');
  if (!root || root.dataset.role !== 'screen') return;
  var doc = document.documentElement;
  var body = document.body;

  function over() { return doc.scrollHeight > innerHeight || doc.scrollWidth > innerWidth; }
  var fitting = false;
  function fit() {
    if (fitting) return;
    fitting = true;
    root.style.zoom = '';
    if (over()) {
      var low = 0.25, high = 1;
      for (var i = 0; i < 8; i++) {                  // halve the interval: within 0.3% of the best
        var mid = (low + high) / 2;
        root.style.zoom = String(mid);
        if (over()) high = mid; else low = mid;
      }
      root.style.zoom = String(low);
    }
    fitting = false;
  }
  var pending = null;
  function later() {
    if (pending !== null) return;
    pending = requestAnimationFrame(function () { pending = null; fit(); });
  }
  document.addEventListener('htmx:afterSettle', later);
  document.addEventListener('htmx:oobAfterSwap', later);
  document.addEventListener('htmx:wsAfterMessage', later);
  window.addEventListener('resize', later);
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(later);
  later();

  // ---------------------------------------------------------------- the operator's tools
  var hideTools = null;
  document.addEventListener('mousemove', function (evt) {
    if (evt.clientY < innerHeight - 80) return;
    body.classList.add('tools-shown');
    clearTimeout(hideTools);
    hideTools = setTimeout(function () { body.classList.remove('tools-shown'); }, 4000);
  });

  // ---------------------------------------------------------------- join, on demand
  function showJoin(on) {
    body.classList.toggle('join-shown', on);
    var toggles = document.querySelectorAll('[data-join-toggle]');
    for (var i = 0; i < toggles.length; i++) toggles[i].setAttribute('aria-expanded', on ? 'true' : 'false');
    later();
  }
  document.addEventListener('click', function (evt) {
    if (evt.target.closest && evt.target.closest('[data-join-toggle]')) { showJoin(!body.classList.contains('join-shown')); return; }
    if (body.classList.contains('join-shown') && !(evt.target.closest && evt.target.closest('#screen-tools, .language-picker'))) showJoin(false);
  });
  document.addEventListener('keydown', function (evt) {
    var target = evt.target;
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
    if (evt.key === 'Escape') {
      showJoin(false);
      if (document.activeElement && document.activeElement.closest('#screen-tools')) document.activeElement.blur();
    }
    else if ((evt.key === 'j' || evt.key === 'J') && shortcutsOn() && !evt.ctrlKey && !evt.metaKey && !evt.altKey) showJoin(!body.classList.contains('join-shown'));
  });
}
