// The summary page: reads its token from the URL fragment (never sent to the server as
// part of a URL), fetches the printable content with it, and offers Print and Markdown.
(function () {
  "use strict";
  var main = document.getElementById("summary");
  var code = main && main.getAttribute("data-code");
  var key = new URLSearchParams(location.hash.slice(1)).get("key");

  function show(text) {
    main.textContent = "";
    var p = document.createElement("p");
    p.className = "loading";
    p.textContent = text;
    main.appendChild(p);
    main.removeAttribute("aria-busy");
  }

  function get(path) {
    return fetch(path, { headers: { Authorization: "Bearer " + key }, cache: "no-store", credentials: "omit" });
  }

  document.getElementById("summary-print").addEventListener("click", function () { window.print(); });

  var md = document.getElementById("summary-markdown");
  if (md) {
    md.addEventListener("click", function () {
      get("/api/sessions/" + code + "/summary.md").then(function (r) {
        if (!r.ok) { throw new Error(r.status); }
        var name = (r.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/);
        return r.blob().then(function (blob) {
          var a = document.createElement("a");
          a.href = URL.createObjectURL(blob);
          a.download = name ? name[1] : "summary.md";
          document.body.appendChild(a);
          a.click();
          setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
        });
      }).catch(function () { show("The Markdown download failed. The session may have expired."); });
    });
  }

  if (!code || !key) { show("This link has no key. Open the summary from the console or your phone."); return; }
  get("/api/sessions/" + code + "/summary.html?part=content").then(function (r) {
    if (r.status === 404) { throw new Error("This session has ended and its content has been erased."); }
    if (!r.ok) { throw new Error("This key cannot read the summary."); }
    return r.text();
  }).then(function (html) {
    // Server-rendered, autoescaped markup from our own origin; it holds no script.
    var doc = new DOMParser().parseFromString("<main>" + html + "</main>", "text/html");
    main.replaceChildren.apply(main, Array.prototype.slice.call(doc.body.firstChild.childNodes));
    main.removeAttribute("aria-busy");
    var h1 = main.querySelector("h1");
    if (h1) { document.title = h1.textContent + ": summary"; }
  }, function (err) { show(err.message); });
})();
