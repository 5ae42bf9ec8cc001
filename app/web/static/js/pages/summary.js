// The summary page: reads its token from the URL fragment (never sent to the server as
// part of a URL), fetches the printable content with it, and offers Print and Markdown.
import { withKey, saveFile } from '../api.js';
import { fill, say } from '../print-page.js';
import { t, lang } from '../words.js';
(function () {
  "use strict";
  var main = document.getElementById("summary");
  var code = main && main.getAttribute("data-code");
  var key = new URLSearchParams(location.hash.slice(1)).get("key");

  function show(text) { say(main, text); }

  function get(path) {
    return withKey(path, key);
  }

  document.getElementById("summary-print").addEventListener("click", function () { window.print(); });

  var md = document.getElementById("summary-markdown");
  if (md) {
    md.addEventListener("click", function () {
      get("/api/sessions/" + code + "/summary.md?lang=" + encodeURIComponent(lang)).then(function (r) {
        if (!r.ok) { throw new Error(r.status); }
        return saveFile(r, "summary.md");
      }).catch(function () { show(t("markdown_failed")); });
    });
  }

  if (!code || !key) { show(t("summary_no_key")); return; }
  get("/api/sessions/" + code + "/summary.html?part=content&lang=" + encodeURIComponent(lang)).then(function (r) {
    if (r.status === 404) { throw new Error(t("erased")); }
    if (!r.ok) { throw new Error(t("summary_key_wrong")); }
    return r.text();
  }).then(function (html) {
    fill(main, html);
    var h1 = main.querySelector("h1");
    if (h1) { document.title = t("summary_title", { title: h1.textContent }); }
  }, function (err) { show(err.message); });
})();
