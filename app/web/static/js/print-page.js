/* A print-ready page (summary, reflection, record, CPD record, between meetings) fills its
 * <main> with the content block it fetched with its key, or says in one line what went wrong. */
import { withKey } from './api.js';
import { localTimes } from './words.js';

export function fill(main, html) {
  // Server-rendered, autoescaped markup from our own origin; it holds no script.
  var doc = new DOMParser().parseFromString('<main>' + html + '</main>', 'text/html');
  main.replaceChildren.apply(main, Array.prototype.slice.call(doc.body.firstChild.childNodes));
  main.removeAttribute('aria-busy');
  localTimes(main);
}

// One line of text in place of a print page's content (loading, or what went wrong).
export function say(main, text) {
  main.textContent = '';
  var p = document.createElement('p');
  p.className = 'loading';
  p.textContent = text;
  main.appendChild(p);
  main.removeAttribute('aria-busy');
}

// Erasing takes two steps on the page itself: open "Erase…" (#PREFIX-erase-step), tick that it
// is for good (#PREFIX-erase-sure), then confirm (#PREFIX-erase). ``erased`` says so and loads
// the page again; ``failed`` says it did not work.
export function eraseInTwoSteps(prefix, path, key, erased, failed) {
  var sure = document.getElementById(prefix + '-erase-sure'), erase = document.getElementById(prefix + '-erase');
  sure.addEventListener('change', function () { erase.disabled = !sure.checked; });
  erase.addEventListener('click', function () {
    if (!sure.checked) { return; }
    erase.disabled = true;
    withKey(path, key, { method: 'DELETE' }).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      sure.checked = false;
      document.getElementById(prefix + '-erase-step').open = false;
      return erased();
    }).catch(function () { failed(); erase.disabled = !sure.checked; });
  });
}
