// A member's CPD print page: the member code comes from this phone's own storage
// ('tp:member:<group id>', kept by groups.js) or a personal link's fragment (#member=<group id>.<code>),
// never from a URL the server sees; the record is fetched with it in the Authorization header.
import { store, keys } from '../storage.js';
import { withKey, saveFile } from '../api.js';
import { fill, say, eraseInTwoSteps } from '../print-page.js';
import { lang } from '../words.js';
(function () {
  "use strict";
  var main = document.getElementById("cpd");
  var group = main && main.getAttribute("data-code");
  var base = "/api/groups/" + encodeURIComponent(group) + "/cpd";
  var inLang = "lang=" + encodeURIComponent(lang);  // the page's language: headings and sentences
  function el(id) { return document.getElementById(id); }
  function said(id) { return el(id).textContent; }
  var code = null;
  var link = new URLSearchParams(location.hash.slice(1)).get("member") || "";
  if (link.indexOf(group + ".") === 0) { code = link.slice(group.length + 1); }
  if (!code) {
    code = store.get(keys.member(group));
  }
  var note = el("cpd-note");

  function load() {
    return withKey(base + ".html?part=content&" + inLang, code).then(function (r) {
      if (r.status === 404) { throw new Error(said("cpd-no-group")); }
      if (!r.ok) { throw new Error(said("cpd-wrong-code")); }
      return r.text();
    }).then(function (html) { fill(main, html); }, function (err) { say(main, err.message); });
  }

  el("cpd-print").addEventListener("click", function () { window.print(); });
  el("cpd-markdown").addEventListener("click", function () {
    withKey(base + ".md?" + inLang, code).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return saveFile(r, "my-cpd-record.md");
    }).catch(function () { note.textContent = said("cpd-failed"); });
  });
  eraseInTwoSteps("cpd", base, code, function () {
    note.textContent = said("cpd-erased");
    return load();
  }, function () { note.textContent = said("cpd-failed"); });

  if (!group || !code) { say(main, said("cpd-no-code")); return; }
  load();
})();
