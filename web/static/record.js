// The group's record page: reads the group's key from the URL fragment (#key=<group id>.<key>,
// never sent to the server as part of a URL), fetches the charts with it in the Authorization
// header, and offers the CSV download and erasing the record.
(function () {
  "use strict";
  var main = document.getElementById("record");
  var group = main && main.getAttribute("data-code");
  var given = new URLSearchParams(location.hash.slice(1)).get("key") || "";
  var key = given.indexOf(".") > 0 ? given.slice(given.indexOf(".") + 1) : given;
  var files = window.TalkingPieceFiles;
  var t = window.TalkingPieceWords.t;
  var note = document.getElementById("record-note");
  var base = "/api/groups/" + encodeURIComponent(group) + "/record";

  function show(text) { window.TalkingPieceFiles.say(main, text); }

  function load() {
    return files.withKey(base + ".html?part=content&lang=" + encodeURIComponent(window.TalkingPieceWords.lang), key).then(function (r) {
      if (r.status === 404) { throw new Error(t("no_group")); }
      if (!r.ok) { throw new Error(t("record_key_wrong")); }
      return r.text();
    }).then(function (html) { files.fill(main, html); }, function (err) { show(err.message); });
  }

  document.getElementById("record-print").addEventListener("click", function () { window.print(); });
  document.getElementById("record-csv").addEventListener("click", function () {
    files.withKey(base + ".csv", key).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return files.save(r, "group-record.csv");
    }).catch(function () { note.textContent = t("csv_failed"); });
  });
  document.getElementById("record-erase").addEventListener("click", function () {
    if (!window.confirm(t("record_erase_confirm"))) { return; }
    files.withKey(base, key, { method: "DELETE" }).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      note.textContent = t("record_erased");
      return load();
    }).catch(function () { note.textContent = t("record_erase_failed"); });
  });

  if (!group || !key) { show(t("record_no_key")); return; }
  load();
})();
