// The message page follows the store: it says when its message is deleted elsewhere, and the
// inbox switcher's counts stay current.
import { api } from "./api.js";
import { dataOf, openEvents } from "./live.js";
import { followInboxes } from "./sidebar.js";

function showGone() {
  const notice = document.getElementById("gone");
  if (!notice || !notice.hidden) return;
  notice.hidden = false;
  document.querySelectorAll('.message-actions [data-action]').forEach((button) => {
    button.disabled = true;
  });
}

async function checkStillThere(id) {
  try { await api.getMessage(id); } catch (error) { if (error.status === 404) showGone(); }
}

export function followMessage() {
  const article = document.querySelector("article.message");
  if (!article) return;
  const id = article.dataset.id;
  const source = openEvents("");
  if (!source) return;
  followInboxes(source);
  source.addEventListener("deleted", (event) => {
    if ((dataOf(event).ids || []).map(String).includes(id)) showGone();
  });
  // Events this page missed are forgotten: ask whether the message is still there.
  source.addEventListener("reset", () => checkStillThere(id));
}
