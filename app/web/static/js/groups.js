/* Recurring groups, consent and the summary on the pages:
 *
 * - the member code: a phone keeps the code the group gave it (storage.js, one per group, and
 *   the name given with it), fills both into the join form of the group's next session, and
 *   shows it (with a personal link, /join#member=<group id>.<code>) so its owner can note it;
 *   opening that link on another phone keeps the code there too;
 * - the summary: its print page and Markdown download use this page's own key, in the URL
 *   fragment or the Authorization header, never in a URL the server sees;
 * - focus kept in a region whose button answered, and a polite announcement when a ballot or
 *   one's carried actions appear.
 */
import { store, keys } from './storage.js';
import { withKey, saveFile } from './api.js';
import { t, lang } from './words.js';

// The start page: a group was just created. The key came in the answer to a POST: make this
// history entry a plain GET of the start page, so that a reload neither creates a second group
// nor shows the key again.
export function groupCreated() {
  if (document.getElementById('group-created')) history.replaceState(null, '', '/');
}

// /join: a personal link was opened.
export function memberLinkOpened() {
  var kept = document.getElementById('member-kept');
  if (!kept) return;
  var link = new URLSearchParams(location.hash.slice(1)).get('member') || '';
  var dot = link.indexOf('.');
  if (dot > 0 && dot < link.length - 1) {
    store.set(keys.member(link.slice(0, dot)), link.slice(dot + 1));
    history.replaceState(null, '', location.pathname + location.search);
    kept.hidden = false;
  }
}

// The phone's member code: in the join form, and on the member card once joined.
export function memberCode() {
  var field = document.getElementById('member_code');
  var group = field && field.closest('[data-group]').dataset.group;
  if (field && group) {
    var known = store.get(keys.member(group));
    var nameField = document.getElementById('name');
    if (known) {
      field.value = known;
      document.getElementById('member-code-hint').textContent = t('kept_for_group');
      // A returning member on the same phone: the name they gave this group last time.
      var knownName = store.get(keys.memberName(group));
      if (knownName && nameField && !nameField.value) nameField.value = knownName;
    }
    document.getElementById('join-form').addEventListener('tp:joined', function (evt) {
      if (nameField) store.set(keys.memberName(group), nameField.value.trim());
      var given = evt.detail && evt.detail.member_code;
      if (given) {
        store.set(keys.member(group), given);
        store.set(keys.memberNew(group), '1');
      } else if (field.value.trim()) {
        store.set(keys.member(group), field.value.trim());   // typed and recognised: keep it here
      }
    });
    // A newcomer turned away at a locked door: the code the door gave them opens nothing, so the
    // next meeting's join form must not offer it.
    document.getElementById('join-form').addEventListener('tp:turned-away', function () {
      if (store.get(keys.memberNew(group))) {
        store.remove(keys.member(group));
        store.remove(keys.memberNew(group));
      }
    });
  }

  var card = document.getElementById('member-card');
  if (card) {
    var mine = store.get(keys.member(card.dataset.group));
    if (mine) {
      document.getElementById('member-code-text').textContent = mine;
      document.getElementById('member-link').href =
        location.origin + '/join#member=' + encodeURIComponent(card.dataset.group) + '.' + encodeURIComponent(mine);
      card.hidden = false;
      var cpdLink = document.getElementById('cpd-link');
      if (cpdLink) cpdLink.hidden = false;   // my CPD record opens with the code this phone keeps
      var between = document.getElementById('meetings-link');
      if (between) between.hidden = false;   // so does my page between meetings (agreement, topics, journal)
      if (store.get(keys.memberNew(card.dataset.group))) {
        store.remove(keys.memberNew(card.dataset.group));   // shown open once; folded away after
        document.getElementById('member-new').hidden = false;
        card.open = true;
      }
    }
  }
}

// The summary, with this page's key (the console's and the phone's).
export function summaryLinks(live) {
  function key() {
    if (live.role === 'participant') return store.get(keys.token(live.code));
    return new URLSearchParams(location.hash.slice(1)).get('key');
  }
  document.addEventListener('click', function (evt) {
    var target = evt.target.closest && evt.target.closest('[data-summary-link], [data-summary-md]');
    if (!target || !key()) return;
    if (target.hasAttribute('data-summary-link')) {
      // Set at the click, before the browser follows it: the key rides in the fragment.
      target.href = '/summary/' + encodeURIComponent(live.code) + '#key=' + encodeURIComponent(key());
      return;
    }
    withKey('/api/sessions/' + encodeURIComponent(live.code) + '/summary.md?lang=' + encodeURIComponent(lang), key()).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return saveFile(r, 'summary.md');
    }).catch(function () {
      var note = document.getElementById('notice');
      if (note) note.textContent = t('download_failed_erased');
    });
  });
}

// A button that answered (Agree, Propose…) is gone after the push: rather than drop focus
// to the top of the page, move it to the next button of the same region, or its heading.
export function regionFocus(root) {
  var lostIn = null;
  root.addEventListener('htmx:wsBeforeMessage', function () {
    var active = document.activeElement;
    var region = active && active.closest && active.closest('.g-region');
    lostIn = region ? region.id : null;
  });
  root.addEventListener('htmx:wsAfterMessage', function () {
    if (!lostIn || (document.activeElement && document.activeElement !== document.body)) return;
    var region = document.getElementById(lostIn);
    var next = region && (region.querySelector('button:not([disabled])') || region.querySelector('h2'));
    if (next) {
      if (next.tagName === 'H2') next.setAttribute('tabindex', '-1');
      next.focus({ preventScroll: false });
    }
    lostIn = null;
  });
}

// Announcements on the phone: a ballot asked of me, the actions I carried from last time.
export function groupAnnouncements(root) {
  var asked = {}, reviewing = false;
  function announce(text) {
    var el = document.getElementById('groups-announcer');
    if (!el) return;
    el.textContent = '';
    setTimeout(function () { el.textContent = text; }, 60);
  }
  root.addEventListener('htmx:wsAfterMessage', function () {
    var open = document.querySelectorAll('#g-consent li[data-open]');
    var fresh = [];
    for (var i = 0; i < open.length; i++) {
      var id = open[i].dataset.proposal;
      if (!asked[id]) { asked[id] = true; fresh.push(open[i].querySelector('.consent-text').textContent); }
    }
    if (fresh.length) announce(t('consent_asked', { texts: fresh.join('; ') }));
    var review = document.querySelector('#g-carried .carried.reviewing');
    if (review && !reviewing) {
      var items = review.querySelectorAll('.carried-text');
      var texts = Array.prototype.map.call(items, function (p) { return p.textContent.trim(); });
      announce(t('last_time_planned', { texts: texts.join('; ') }));
    }
    reviewing = !!review;
  });
}
