/* The projected screen (web/templates/screen.html). */
import { languagePickers } from '../language-picker.js';
import { copyButtons } from '../copy.js';
import { livePage } from '../live-page.js';
import { localTimes, t } from '../words.js';
import { soundToggles, listenForTurnEnds } from '../sounds.js';
import { everyTick } from '../countdowns.js';
import { banner } from '../banner.js';
import { goLive } from '../live.js';
import { keepAwakeInRound, awakeAgainWhenVisible } from '../screen-awake.js';
import { viewer } from '../viewer.js';
import { screenFit } from '../screen-fit.js';
import { shortcutSwitch } from '../shortcuts.js';

languagePickers();
copyButtons();
var live = livePage();
localTimes(document);
soundToggles();
if (!live.token) banner(t('missing_key'), true);
else {
  everyTick(listenForTurnEnds);
  goLive(live, { afterMessage: keepAwakeInRound });
  awakeAgainWhenVisible();
}
viewer();
screenFit();
shortcutSwitch(live.root);
