/* The phone's focus: what this moment asks of this person (from the phase's purpose, #status's
 * data-focus) orders the phone's sections and opens the matching fold. */
import { clearReadReplies } from './replies.js';

var FOLDS = { write: 'fold-write', actions: 'fold-actions', evaluation: 'fold-evaluation', notes: 'fold-reflection' };
var focus = null, autoOpened = null, phaseSeen = null;

export function followFocus() {
  var status = document.getElementById('status');
  var room = document.getElementById('room');
  if (!status || !room) return;
  var phaseNow = status.dataset.phase || '';
  if (phaseNow !== phaseSeen) {  // a new phase: replies that were read are of the last one
    if (phaseSeen !== null) clearReadReplies(room);
    phaseSeen = phaseNow;
  }
  var now = status.dataset.focus || '';
  if (now === focus) return;
  focus = now;
  room.dataset.focus = now;
  if (autoOpened && !hasText(autoOpened)) {  // folded again unless something is being written in it
    if (autoOpened.contains(document.activeElement)) document.activeElement.blur();
    autoOpened.open = false;
  }
  autoOpened = null;
  var fold = FOLDS[now] && document.getElementById(FOLDS[now]);
  if (fold && !fold.open) { fold.open = true; autoOpened = fold; }
}

function hasText(el) {
  var fields = el.querySelectorAll('textarea, input[type=text], input:not([type])');
  for (var i = 0; i < fields.length; i++) if (fields[i].value.trim()) return true;
  return false;
}
