/* The pages' calls to the JSON API and the keyed documents. A key goes in the Authorization
 * header, never in a URL (where a server's log could keep it). A refusal becomes an Error
 * with the contract's error object: its HTTP status, its stable `reason` and the API's
 * message (English, for programs: pages show their own words).
 */

export function withKey(path, key, options) {
  options = options || {};
  options.headers = Object.assign(key ? { Authorization: 'Bearer ' + key } : {}, options.headers || {});
  options.cache = 'no-store';
  if (key) options.credentials = 'omit';
  return fetch(path, options);
}

// A JSON body sent with ``method`` (POST unless given), the key when there is one.
export function sendJSON(path, key, body, method) {
  return withKey(path, key, { method: method || 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

export function Refusal(status, error) {
  var e = new Error((error && error.message) || String(status));
  e.status = status;
  e.reason = (error && error.reason) || '';
  e.code = (error && error.code) || '';
  e.apiMessage = (error && error.message) || '';
  e.values = (error && error.values) || {};
  return e;
}

// The answer's JSON body, or a Refusal (its error object read, when there is one).
export function json(response) {
  return response.json().catch(function () { return {}; }).then(function (body) {
    if (!response.ok) throw Refusal(response.status, body && body.error);
    return body;
  });
}

// Saves the response's body under the name its Content-Disposition gives (or ``fallback``).
export function saveFile(response, fallback) {
  var name = (response.headers.get('Content-Disposition') || '').match(/filename="([^"]+)"/);
  return response.blob().then(function (blob) {
    var a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name ? name[1] : fallback;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  });
}
