/* The console's keyboard shortcuts: a key presses the button that names it (data-key), unless
 * a modifier is held or the person is typing. */

export function shortcuts() {
  document.addEventListener('keydown', function (evt) {
    if (evt.ctrlKey || evt.metaKey || evt.altKey || evt.repeat) return;
    var target = evt.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var button = document.querySelector('[data-key="' + (evt.key.length === 1 ? evt.key : '') + '"]');
    if (!button || button.disabled) return;
    evt.preventDefault();
    button.click();
  });
}
