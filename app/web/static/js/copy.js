/* "Copy" buttons: data-copy="<id>" copies that field's text (a group's key, a member code,
 * the console's way back); data-copy-link copies the address of the link beside it (a
 * co-facilitator's). The status line nearby says whether it worked. */
import { t } from './words.js';

export function copyButtons() {
  document.addEventListener('click', function (evt) {
    var button = evt.target.closest && evt.target.closest('[data-copy]');
    if (!button) return;
    var source = document.getElementById(button.dataset.copy);
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent;
    var status = button.closest('section, details').querySelector('[role=status]');
    function said(ok) { if (status) status.textContent = ok ? t('copied') : t('copy_by_hand'); }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { said(true); }, function () { said(false); });
    } else {
      if (source.select) source.select();
      said(false);
    }
  });
  document.addEventListener('click', function (evt) {
    var button = evt.target.closest && evt.target.closest('[data-copy-link]');
    if (!button) return;
    var link = button.parentNode.querySelector('a');
    var status = button.parentNode.querySelector('[role=status]');
    var said = function (ok) { if (status) status.textContent = ok ? t('copied') : t('copy_by_hand'); };
    if (link && navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(link.href).then(function () { said(true); }, function () { said(false); });
    else said(false);
  });
}
