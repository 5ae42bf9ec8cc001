/* Each reply lands next to the control that sent it and stays until read; typed text is
 * cleared only once the server has accepted it. The server's replies arrive in #notice, each
 * named by the id of the command it answers (data-reply-id). */
import { t } from './words.js';

var slots = {};         // command id -> the .replies slot beside the control that sent it
var clearing = {};      // command id -> the field to empty once the server accepted it

export function note(text, cls) {
  var p = document.createElement('p');
  p.className = cls;
  p.textContent = text;
  return p;
}

// The nearest .replies slot: inside the form's own box, or right after the region it sits in.
function slotFor(form) {
  var root = document.getElementById('main');
  var inside = form.closest('.replies');
  if (inside) return inside;
  for (var el = form; el && el !== root; el = el.parentElement) {
    var own = el.querySelector(':scope > .replies');
    if (own) return own;
    var next = el.nextElementSibling;
    if (next && next.classList.contains('replies')) return next;
  }
  return null;
}

function placeReply(slot, node) {
  if (!slot) return false;
  if (!node.querySelector('[data-dismiss]') && !node.classList.contains('waiting')) {
    var ok = document.createElement('button');
    ok.type = 'button';
    ok.className = 'btn small dismiss';
    ok.setAttribute('data-dismiss', '');
    ok.textContent = t('ok');
    node.appendChild(ok);
  }
  slot.replaceChildren(node);
  return true;
}

// A command sent from ``form``: its reply goes beside it.
export function awaitReply(cid, form) {
  if (!form) return;
  slots[cid] = slotFor(form);
  if (form.dataset.clear) clearing[cid] = form.dataset.clear;
}

// Said beside the control while the command waits in the outbox.
export function notSentYet(cid) {
  placeReply(slots[cid], note(t('not_sent_yet'), 'notice waiting'));
}

export function routeReplies() {
  var notice = document.getElementById('notice');
  if (!notice) return;
  var replies = notice.querySelectorAll('[data-reply-id]');
  for (var i = 0; i < replies.length; i++) {
    var reply = replies[i];
    var cid = reply.dataset.replyId;
    var slot = slots[cid];
    var accepted = reply.hasAttribute('data-reply-ok');
    if (accepted && clearing[cid]) {
      var field = document.getElementById(clearing[cid]);
      if (field) field.value = '';
    }
    var guardForm = reply.querySelector('form[ws-send]');
    if (guardForm && clearing[cid]) guardForm.dataset.clear = clearing[cid];  // "send as it is" clears it once accepted
    delete clearing[cid];
    delete slots[cid];
    if (accepted && !reply.textContent.trim()) {   // nothing to say: the page itself shows what changed
      reply.remove();
      if (slot) slot.replaceChildren();
      continue;
    }
    if (slot && document.contains(slot)) placeReply(slot, reply);
    // Otherwise (sent before a reload) it stays in #notice, near the top of the page.
  }
}

// OK puts a reply away; "edit it" (a guard's reply) brings the sent text back into its field.
export function replyButtons() {
  document.addEventListener('click', function (evt) {
    var dismiss = evt.target.closest('[data-dismiss]');
    if (dismiss) {
      var box = dismiss.closest('.replies, #notice');
      if (box) box.replaceChildren();
      return;
    }
    var restore = evt.target.closest('[data-restore-target]');
    if (!restore) return;
    var field = document.getElementById(restore.dataset.restoreTarget);
    if (field) {
      if (!field.value.trim()) field.value = restore.dataset.restoreText || '';  // typed text is kept: after a reload it comes back
      var fold = field.closest('details');
      if (fold) fold.open = true;
      field.focus();
    }
    var slot = restore.closest('.replies, #notice');
    if (slot) slot.replaceChildren();
  });
}

// After a new phase, replies that were read belong to the last one.
export function clearReadReplies(room) {
  var old = room.querySelectorAll('.replies');
  for (var i = 0; i < old.length; i++) if (!old[i].querySelector('.error, .waiting')) old[i].replaceChildren();
}
