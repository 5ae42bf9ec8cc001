/* The room's safety on the phone:
 *
 * - "a word afterwards": the tick's command follows the box as it is when it changes, so two
 *   quick taps cannot send the same command twice;
 * - the private reflection: loaded and saved over HTTP with the phone's own token in the
 *   Authorization header (never in a URL), through the identifier guard's "edit it, or save
 *   it as it is", and downloaded as Markdown through fetch and a blob.
 */
import { store, keys } from './storage.js';
import { withKey, json, saveFile } from './api.js';
import { t, lang, clock, refusal } from './words.js';

export function wordToggle() {
  // Capture phase: runs before htmx reads the form for the ws-send it triggers on 'change'.
  document.addEventListener('change', function (evt) {
    var box = evt.target;
    if (!box.matches || !box.matches('[data-word-toggle]')) return;
    box.form.elements.type.value = box.checked ? 'request_word' : 'withdraw_word';
  }, true);
}

export function privateReflection(code) {
  var form = document.getElementById('reflection-form');
  if (!form) return;
  var status = document.getElementById('reflection-status');
  var guard = document.getElementById('reflection-guard');
  var guardText = document.getElementById('reflection-guard-text');
  var fields = Array.prototype.slice.call(form.querySelectorAll('textarea'));
  var base = '/api/sessions/' + encodeURIComponent(code) + '/reflection';
  var touched = false;   // typed since the page loaded (a late load must not overwrite it)
  var dirty = false;     // typed since the last save (downloads hold what was saved)

  function token() { return store.get(keys.token(code)); }
  function call(url, options) {
    var key = token();
    if (!key) return Promise.reject(new Error(t('join_first')));
    return withKey(url, key, options);
  }
  function problem(r) {
    return json(r).catch(function (refused) {
      // The API's message is English, for programs: other languages get the page's own sentence.
      var e = new Error(refusal(refused) || (lang === 'en' && refused.apiMessage) || t('did_not_work', { status: r.status }));
      e.code = refused.code;
      throw e;
    });
  }
  function say(text) { status.textContent = text; }

  fields.forEach(function (f) { f.addEventListener('input', function () { touched = dirty = true; }); });

  // What this phone saved before (after a reload, say), unless the person has started typing.
  // Not on a removed phone: its key opens nothing until it is let back in.
  if (token() && !store.get(keys.removed(code))) {
    call(base).then(function (r) { return r.ok ? r.json() : null; }).then(function (record) {
      if (!record || touched) return;
      record.prompts.forEach(function (p) {
        var field = form.elements[p.key];
        if (field && p.text) field.value = p.text;
      });
    }).catch(function () { /* nothing saved yet, or offline: the form stays empty */ });
  }

  function save(confirmed) {
    var body = { confirmed: !!confirmed };
    fields.forEach(function (f) { body[f.name] = f.value; });
    say(t('saving'));
    // ?ask=1: the guard's question comes back as an answer (200), not as a refused request.
    return call(base + '?ask=1', { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (r) {
        if (!r.ok) return problem(r);
        if (r.status === 200) {
          return r.json().then(function (answer) {
            var e = new Error(answer.possible_identifier || '');
            e.code = 'possible_identifier';
            throw e;
          });
        }
        guard.hidden = true;
        dirty = false;
        var now = new Date();
        say(t('saved_at', { time: clock(now) }));
        return true;
      })
      .catch(function (e) {
        if (e.code === 'possible_identifier') {
          say('');
          // The API's words are English, for programs: an English page shows what it found, others their own sentence.
          guardText.textContent = lang === 'en' ? e.message.split('. Edit it')[0] + '.' : t('guard_generic');
          guard.hidden = false;
          document.getElementById('reflection-edit').focus();  // editing is the safe default
        } else {
          say(navigator.onLine === false ? t('not_saved_offline') : e.message);
        }
        return false;
      });
  }

  form.addEventListener('submit', function (evt) { evt.preventDefault(); save(false); });
  document.getElementById('reflection-confirm').addEventListener('click', function () { save(true); });
  document.getElementById('reflection-edit').addEventListener('click', function () {
    guard.hidden = true;
    var first = fields.filter(function (f) { return f.value.trim(); })[0] || fields[0];
    first.focus();
  });

  // The downloads hold what was saved: save what was typed first.
  function saved() { return dirty ? save(false) : Promise.resolve(true); }

  document.getElementById('reflection-print').addEventListener('click', function (evt) {
    if (!dirty) return;
    evt.preventDefault();
    var href = evt.currentTarget.href;
    saved().then(function (ok) {
      if (!ok) return;
      var w = window.open(href, '_blank');
      if (w) w.opener = null; else location.href = href;
    });
  });

  document.getElementById('reflection-md').addEventListener('click', function () {
    saved().then(function (ok) { if (ok) download(); });
  });

  function download() {
    call(base + '?download=md&lang=' + encodeURIComponent(lang)).then(function (r) {
      if (!r.ok) return problem(r);
      return saveFile(r, 'reflection.md').then(function () {
        say(t('downloaded_private'));
      });
    }).catch(function (e) { say(e.message); });
  }
}
