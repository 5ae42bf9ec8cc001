/* Recurring groups, consent and the summary on the pages, beside app.js:
 *
 * - the member code: a phone keeps the code the group gave it (localStorage, one per group,
 *   'tp:member:<group id>', and the name given with it), fills both into the join form of the group's next session, and
 *   shows it (with a personal link, /join#member=<group id>.<code>) so its owner can note it;
 *   opening that link on another phone keeps the code there too;
 * - the summary: its print page and Markdown download use this page's own key, in the URL
 *   fragment or the Authorization header, never in a URL the server sees;
 * - "Copy" buttons, and a polite announcement when a ballot or one's carried actions appear.
 */
(function () {
  'use strict';
  var t = window.TalkingPieceWords.t;

  var store = (function () {
    try {
      localStorage.setItem('tp:probe', '1');
      localStorage.removeItem('tp:probe');
      return localStorage;
    } catch (e) {
      var mem = {};
      return { getItem: function (k) { return k in mem ? mem[k] : null; },
               setItem: function (k, v) { mem[k] = String(v); }, removeItem: function (k) { delete mem[k]; } };
    }
  })();
  function memberKey(group) { return 'tp:member:' + group; }

  // ---------------------------------------------------------------- copy buttons (start page, phone)
  document.addEventListener('click', function (evt) {
    var button = evt.target.closest && evt.target.closest('[data-copy]');
    if (!button) return;
    var source = document.getElementById(button.dataset.copy);
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent;
    var status = button.closest('section, details').querySelector('[role=status]');
    function said(ok) { if (status) status.textContent = ok ? t('copied') : t('copy_by_hand'); }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { said(true); }, function () { said(false); });
    } else {
      if (source.select) source.select();
      said(false);
    }
  });

  // ---------------------------------------------------------------- start page: a group was just created
  // The key came in the answer to a POST: make this history entry a plain GET of the start
  // page, so that a reload neither creates a second group nor shows the key again.
  if (document.getElementById('group-created')) history.replaceState(null, '', '/');

  // ---------------------------------------------------------------- /join: a personal link was opened
  var kept = document.getElementById('member-kept');
  if (kept) {
    var link = new URLSearchParams(location.hash.slice(1)).get('member') || '';
    var dot = link.indexOf('.');
    if (dot > 0 && dot < link.length - 1) {
      store.setItem(memberKey(link.slice(0, dot)), link.slice(dot + 1));
      history.replaceState(null, '', location.pathname + location.search);
      kept.hidden = false;
    }
  }

  var root = document.getElementById('main');
  var role = root && root.dataset.role;
  if (!role || role === 'screen') return;
  var code = root.dataset.code;

  // ---------------------------------------------------------------- the phone's member code
  var field = document.getElementById('member_code');
  var group = field && field.closest('[data-group]').dataset.group;
  if (field && group) {
    var known = store.getItem(memberKey(group));
    var nameField = document.getElementById('name');
    if (known) {
      field.value = known;
      document.getElementById('member-code-hint').textContent =
        t('kept_for_group');
      // A returning member on the same phone: the name they gave this group last time.
      var knownName = store.getItem(memberKey(group) + ':name');
      if (knownName && nameField && !nameField.value) nameField.value = knownName;
    }
    document.getElementById('join-form').addEventListener('tp:joined', function (evt) {
      if (nameField) store.setItem(memberKey(group) + ':name', nameField.value.trim());
      var given = evt.detail && evt.detail.member_code;
      if (given) {
        store.setItem(memberKey(group), given);
        store.setItem(memberKey(group) + ':new', '1');
      } else if (field.value.trim()) {
        store.setItem(memberKey(group), field.value.trim());   // typed and recognised: keep it here
      }
    });
  }

  var card = document.getElementById('member-card');
  if (card) {
    var mine = store.getItem(memberKey(card.dataset.group));
    if (mine) {
      document.getElementById('member-code-text').textContent = mine;
      document.getElementById('member-link').href =
        location.origin + '/join#member=' + encodeURIComponent(card.dataset.group) + '.' + encodeURIComponent(mine);
      card.hidden = false;
      var cpdLink = document.getElementById('cpd-link');
      if (cpdLink) cpdLink.hidden = false;   // my CPD record opens with the code this phone keeps
      var between = document.getElementById('meetings-link');
      if (between) between.hidden = false;   // so does my page between meetings (agreement, topics, journal)
      if (store.getItem(memberKey(card.dataset.group) + ':new')) {
        store.removeItem(memberKey(card.dataset.group) + ':new');   // shown open once; folded away after
        document.getElementById('member-new').hidden = false;
        card.open = true;
      }
    }
  }

  // ---------------------------------------------------------------- the summary, with this page's key
  function key() {
    if (role === 'participant') return store.getItem('tp:token:' + code);
    return new URLSearchParams(location.hash.slice(1)).get('key');
  }

  document.addEventListener('click', function (evt) {
    var target = evt.target.closest && evt.target.closest('[data-summary-link], [data-summary-md]');
    if (!target || !key()) return;
    if (target.hasAttribute('data-summary-link')) {
      // Set at the click, before the browser follows it: the key rides in the fragment.
      target.href = '/summary/' + encodeURIComponent(code) + '#key=' + encodeURIComponent(key());
      return;
    }
    var files = window.TalkingPieceFiles;
    files.withKey('/api/sessions/' + encodeURIComponent(code) + '/summary.md?lang=' + encodeURIComponent(window.TalkingPieceWords.lang), key()).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return files.save(r, 'summary.md');
    }).catch(function () {
      var note = document.getElementById('notice');
      if (note) note.textContent = t('download_failed_erased');
    });
  });

  // ---------------------------------------------------------------- focus
  // A button that answered (Agree, Propose…) is gone after the push: rather than drop focus
  // to the top of the page, move it to the next button of the same region, or its heading.
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

  // ---------------------------------------------------------------- announcements (phone)
  if (role !== 'participant') return;
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
})();
