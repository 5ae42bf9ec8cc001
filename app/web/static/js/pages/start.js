/* The pages without a live socket around them: the start page, /join and "no such session". */
import { languagePickers } from '../language-picker.js';
import { copyButtons } from '../copy.js';
import { mySessions } from '../my-sessions.js';
import { groupCreated, memberLinkOpened } from '../groups.js';

languagePickers();
copyButtons();
mySessions();
groupCreated();
memberLinkOpened();
