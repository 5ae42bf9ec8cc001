/* The language picker, on every page: a plain GET form that the reader submits with its
 * button. Choosing in the list changes nothing by itself (WCAG 3.2.2: a keyboard user moving
 * through the list with the arrow keys is not sent to another page at each step). Submitted,
 * the page opens again in that language with its URL's fragment kept (the console's and the
 * screen's key live there). */

export function languagePickers() {
  var forms = document.querySelectorAll('form[data-language-picker]');
  for (var i = 0; i < forms.length; i++) {
    (function (form) {
      form.addEventListener('submit', function () { form.action = location.pathname + location.hash; });
    })(forms[i]);
  }
}
