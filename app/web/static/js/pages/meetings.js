// Between meetings: the member's page (the member code this phone keeps, 'tp:member:<group id>',
// or a #member=<group id>.<code> fragment) or the organiser's (#key=<group id>.<key>). The
// credential goes in the Authorization header only. The content comes rendered from the server;
// each form or button names the JSON call it makes (data-api="METHOD path"), and the page reloads
// its content after it. Fields: a form's inputs (data-int: a number, data-empty-null: empty is
// null, a checkbox: true/false); a button's data-s-* (text), data-b-* (true/false), data-i-* (number).
import { store, keys } from '../storage.js';
import { withKey, saveFile } from '../api.js';
import { fill, say } from '../print-page.js';
import { t, lang, refusal } from '../words.js';
(function () {
  "use strict";
  var main = document.getElementById("meetings");
  var group = main && main.getAttribute("data-code");
  var base = "/api/groups/" + encodeURIComponent(group);
  var inLang = "lang=" + encodeURIComponent(lang);
  function el(id) { return document.getElementById(id); }
  function said(id) { return el(id).textContent; }
  var note = el("meetings-note");

  var hash = new URLSearchParams(location.hash.slice(1));
  var cred = null;
  ["key", "member"].forEach(function (name) {
    var v = hash.get(name) || "";
    if (!cred && v.indexOf(group + ".") === 0) { cred = v.slice(group.length + 1); }
  });
  if (!cred) {
    cred = store.get(keys.member(group));
  }

  function load() {
    return withKey(base + "/between.html?part=content&" + inLang, cred).then(function (r) {
      if (r.status === 404) { throw new Error(said("meetings-no-group")); }
      if (!r.ok) { throw new Error(said("meetings-wrong-code")); }
      return r.text();
    }).then(function (html) { fill(main, html); }, function (err) { say(main, err.message); });
  }

  function fromForm(form) {
    var body = {};
    Array.prototype.forEach.call(form.elements, function (f) {
      if (!f.name) { return; }
      if (f.type === "checkbox") { body[f.name] = f.checked; return; }
      var v = f.value;
      if (v === "" && (f.hasAttribute("data-empty-null") || f.hasAttribute("data-int"))) { body[f.name] = null; return; }
      body[f.name] = f.hasAttribute("data-int") ? parseInt(v, 10) : v;
    });
    var wrap = form.getAttribute("data-wrap");
    if (wrap) { var outer = {}; outer[wrap] = body; return outer; }
    return body;
  }

  function fromButton(button) {
    var body = {};
    Array.prototype.forEach.call(button.attributes, function (a) {
      var m = a.name.match(/^data-([sbi])-(.+)$/);
      if (!m) { return; }
      body[m[2]] = m[1] === "b" ? a.value === "true" : m[1] === "i" ? parseInt(a.value, 10) : a.value;
    });
    return body;
  }

  function send(node, body) {
    var call = node.getAttribute("data-api").split(" ");
    var options = { method: call[0] };
    if (call[0] !== "DELETE") {
      options.headers = { "Content-Type": "application/json" };
      options.body = JSON.stringify(body);
    }
    note.textContent = "";
    return withKey(base + call[1], cred, options).then(function (r) {
      if (!r.ok) {
        // Why, in the page's language, from the refusal's reason; else the status alone.
        return r.json().catch(function () { return {}; }).then(function (body) {
          note.textContent = refusal(body && body.error) || t("did_not_work", { status: r.status });
        });
      }
      return load();
    }, function () { note.textContent = t("did_not_work", { status: "—" }); });
  }

  main.addEventListener("submit", function (e) {
    var form = e.target.closest("form[data-api]");
    if (!form) { return; }
    e.preventDefault();
    send(form, fromForm(form));
  });
  main.addEventListener("click", function (e) {
    var calendar = e.target.closest("[data-calendar]");
    if (calendar) {
      withKey(base + "/calendar.ics?" + inLang, cred).then(function (r) {
        if (!r.ok) { throw new Error(r.status); }
        return saveFile(r, "group-meetings.ics");
      }).catch(function (err) { note.textContent = t("did_not_work", { status: err.message }); });
      return;
    }
    var button = e.target.closest("button[data-api]");
    if (!button) { return; }
    var confirmId = button.getAttribute("data-confirm");
    if (confirmId && !window.confirm(said(confirmId))) { return; }
    send(button, fromButton(button));
  });

  if (!group || !cred) { say(main, said("meetings-no-code")); return; }
  load();
})();
