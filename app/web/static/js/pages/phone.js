/* A participant's phone (web/templates/phone.html): the join form, then the room. */
import { languagePickers } from '../language-picker.js';
import { copyButtons } from '../copy.js';
import { livePage } from '../live-page.js';
import { localTimes } from '../words.js';
import { isRemoved, showRemoved, checkRemoved } from '../removed.js';
import { joinForm } from '../join.js';
import { goLive } from '../live.js';
import { watchTurn, relockWhenVisible } from '../turn-cues.js';
import { followFocus } from '../phone-focus.js';
import { viewer } from '../viewer.js';
import { wordToggle, privateReflection } from '../safety.js';
import { memberCode, summaryLinks, regionFocus, groupAnnouncements } from '../groups.js';
import { door } from '../door.js';
import { offlineCover } from '../offline-cover.js';

languagePickers();
copyButtons();
var live = livePage();
localTimes(document);
if (isRemoved(live.code)) showRemoved(live.code);
else if (!live.token) joinForm(live.code);
else {
  document.getElementById('join-panel').hidden = true;
  document.getElementById('room').hidden = false;
  goLive(live, {
    onBadToken: function () { checkRemoved(live); },
    afterMessage: function () { watchTurn(); followFocus(); }
  });
  relockWhenVisible();
}
viewer();
wordToggle();
privateReflection(live.code);
memberCode();
summaryLinks(live);
regionFocus(live.root);
groupAnnouncements(live.root);
door();
offlineCover(live.root);
