/* The facilitator's console (web/templates/console.html). */
import { languagePickers } from '../language-picker.js';
import { copyButtons } from '../copy.js';
import { wayBack } from '../way-back.js';
import { livePage } from '../live-page.js';
import { screenLink } from '../screen-link.js';
import { localTimes, t } from '../words.js';
import { soundToggles, listenForTurnEnds } from '../sounds.js';
import { everyTick } from '../countdowns.js';
import { banner } from '../banner.js';
import { goLive } from '../live.js';
import { shortcuts } from '../shortcuts.js';
import { viewer } from '../viewer.js';
import { summaryLinks, regionFocus } from '../groups.js';

languagePickers();
copyButtons();
var root = document.getElementById('main');
wayBack(root);   // first: a console opened without its key takes the one this device keeps
var live = livePage();
screenLink(live.code);
localTimes(document);
soundToggles();
if (!live.token) banner(t('missing_key'), true);
else {
  everyTick(listenForTurnEnds);
  goLive(live, {});
  shortcuts(root);
}
viewer();
summaryLinks(live);
regionFocus(root);
