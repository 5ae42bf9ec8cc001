// The group's record page: reads the group's key from the URL fragment (#key=<group id>.<key>,
// never sent to the server as part of a URL), fetches the charts with it in the Authorization
// header, and offers the CSV download and erasing the record. Opened with a read-only report
// link (#report=<report key>) it shows the charts and the CSV only.
import { withKey, saveFile } from '../api.js';
import { fill, say, eraseInTwoSteps } from '../print-page.js';
import { t, lang } from '../words.js';
(function () {
  "use strict";
  var main = document.getElementById("record");
  var group = main && main.getAttribute("data-code");
  var params = new URLSearchParams(location.hash.slice(1));
  var given = params.get("key") || "";
  var report = params.get("report") || "";
  var key = report || (given.indexOf(".") > 0 ? given.slice(given.indexOf(".") + 1) : given);
  function el(id) { return document.getElementById(id); }
  var note = document.getElementById("record-note");
  var base = "/api/groups/" + encodeURIComponent(group) + "/record";

  function show(text) { say(main, text); }

  function load() {
    return withKey(base + ".html?part=content&lang=" + encodeURIComponent(lang), key).then(function (r) {
      if (r.status === 404) { throw new Error(t("no_group")); }
      if (!r.ok) { throw new Error(t("record_key_wrong")); }
      return r.text();
    }).then(function (html) { fill(main, html); }, function (err) { show(err.message); });
  }

  var between = el("record-meetings");  // the key holder organises the meetings: the key goes on in the fragment
  if (between && !report && key) { between.href = "/meetings/" + encodeURIComponent(group) + "#key=" + encodeURIComponent(group + "." + key); between.hidden = false; }
  document.getElementById("record-print").addEventListener("click", function () { window.print(); });
  document.getElementById("record-csv").addEventListener("click", function () {
    withKey(base + ".csv", key).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return saveFile(r, "group-record.csv");
    }).catch(function () { note.textContent = t("csv_failed"); });
  });
  var erased = el("record-erase-note");
  eraseInTwoSteps("record", base, key, function () {
    erased.textContent = t("record_erased");
    return load();
  }, function () { erased.textContent = t("record_erase_failed"); });

  // The report link: only the key holder sees it, can create it (once shown) and revoke it.
  function only(id) {
    ["report-link-none", "report-link-exists", "report-link-revoked", "report-link-failed"].forEach(function (other) {
      el(other).hidden = other !== id;
    });
  }
  function linkState(exists) {
    el("report-link-revoke").hidden = !exists;
  }
  function readGroup() {
    withKey("/api/groups/" + encodeURIComponent(group), key).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.json();
    }).then(function (g) {
      el("report-link").hidden = false;
      only(g.report_link ? "report-link-exists" : "report-link-none");
      linkState(g.report_link);
    }).catch(function () { el("report-link").hidden = true; });
  }
  el("report-link-create").addEventListener("click", function () {
    withKey("/api/groups/" + encodeURIComponent(group) + "/report-link", key, { method: "POST" }).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.json();
    }).then(function (made) {
      el("report-link-url").value = location.origin + made.path;
      el("report-link-new").hidden = false;
      only("report-link-exists");
      linkState(true);
      el("report-link-url").focus();
      el("report-link-url").select();
    }).catch(function () { only("report-link-failed"); });
  });
  el("report-link-revoke").addEventListener("click", function () {
    withKey("/api/groups/" + encodeURIComponent(group) + "/report-link", key, { method: "DELETE" }).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      el("report-link-new").hidden = true;
      el("report-link-url").value = "";
      only("report-link-revoked");
      linkState(false);
    }).catch(function () { only("report-link-failed"); });
  });

  if (report) {
    el("record-erase-zone").hidden = true;
    el("record-readonly").hidden = false;
  }
  if (!group || !key) { show(t("record_no_key")); return; }
  load();
  if (!report) { readGroup(); }
})();
