// Entry point: start the modules that the current page needs.
import { localizeTimes } from "./times.js";
import { startInbox } from "./inbox.js";
import { startTagActions } from "./tags.js";
import { startMessage } from "./message.js";
import { followMessage } from "./messagelive.js";
import { startPreview } from "./preview.js";
import { startGlobalKeys } from "./keys.js";
import { startSession, startSessions } from "./sessions.js";

const page = document.body.dataset.page;
localizeTimes(document);
startGlobalKeys();
if (page === "inbox") { startInbox(); startTagActions(); }
if (page === "message") { startMessage(); startPreview(); followMessage(); }
if (page === "sessions") startSessions();
if (page === "session") startSession();
