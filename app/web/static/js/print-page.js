/* A print-ready page (summary, reflection, record, CPD record, between meetings) fills its
 * <main> with the content block it fetched with its key, or says in one line what went wrong. */
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
