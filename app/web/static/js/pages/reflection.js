// The reflection's print page: the writer's token comes from this phone's own storage (the
// phone page keeps it there after joining), never from a URL; the document is fetched with
// it in the Authorization header.
import { store, keys } from '../storage.js';
import { withKey } from '../api.js';
import { fill } from '../print-page.js';
import { t, lang } from '../words.js';
(function () {
  "use strict";
  var main = document.getElementById("reflection");
  var code = main && main.getAttribute("data-code");
  var key = null;
  if (code) key = store.get(keys.token(code));

  function show(text) {
    main.textContent = "";
    var p = document.createElement("p");
    p.className = "loading";
    p.setAttribute("role", "alert");
    p.textContent = text;
    main.appendChild(p);
    main.removeAttribute("aria-busy");
  }

  document.getElementById("reflection-print-now").addEventListener("click", function () { window.print(); });

  if (!key) { show(t("reflection_phone_only")); return; }
  withKey("/api/sessions/" + encodeURIComponent(code) + "/reflection.html?part=content&lang=" + encodeURIComponent(lang), key)
    .then(function (r) {
      if (r.status === 404) { throw new Error(t("erased")); }
      if (!r.ok) { throw new Error(t("reflection_key_wrong")); }
      return r.text();
    })
    .then(function (html) { fill(main, html); }, function (err) { show(err.message); });
})();
