/* The language picker, on every page: chosen, the page opens again in that language with its
 * URL's fragment kept (the console's and the screen's key live there). */

export function languagePickers() {
  var forms = document.querySelectorAll('form[data-language-picker]');
  for (var i = 0; i < forms.length; i++) {
    (function (form) {
      var select = form.querySelector('select');
      var button = form.querySelector('[data-language-submit]');
      if (button) button.hidden = true;
      form.addEventListener('submit', function () { form.action = location.pathname + location.hash; });
      if (select) select.addEventListener('change', function () {
        form.action = location.pathname + location.hash;
        form.submit();
      });
    })(forms[i]);
  }
}
