/* The quiet line at the top of a live page (#conn): reconnecting, offline, or why the page
 * stopped (with a link onwards when there is one). */

export function banner(text, isFatal, link) {
  var el = document.getElementById('conn');
  if (!el) return;
  if (!text) { el.hidden = true; el.textContent = ''; return; }
  el.textContent = text;
  if (link) {
    var a = document.createElement('a');
    a.href = link.href;
    a.textContent = link.label;
    a.className = 'btn small';
    el.appendChild(a);
  }
  el.classList.toggle('fatal', !!isFatal);
  el.hidden = false;
}
