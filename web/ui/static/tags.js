// A tag's own page (the inbox searched for exactly tag:NAME): rename the tag or delete it,
// on every message, through PUT and DELETE /api/v1/tags/NAME; then go where the tag now is.
import { api, tagQuery } from "./api.js";

function inboxUrl(inbox, query) {
  const params = {};
  if (inbox) params.inbox = inbox;
  if (query) params.query = query;
  return `/?${new URLSearchParams(params)}`;
}

function showError(id, failure) {
  const error = document.getElementById(id);
  error.textContent = failure.message;
  error.hidden = false;
}

function startRename(box) {
  const dialog = document.getElementById("rename-tag-dialog");
  const input = document.getElementById("rename-tag-name");
  box.querySelector('[data-tag-action="rename"]').addEventListener("click", () => {
    document.getElementById("rename-tag-error").hidden = true;
    input.value = box.dataset.tag;
    dialog.showModal();
    input.select();
  });
  // The dialog stays open on a refusal (a bad name), showing the server's reason.
  document.getElementById("rename-tag-save").addEventListener("click", async (event) => {
    event.preventDefault();
    const to = input.value.trim();
    if (!to) return;
    try {
      const renamed = await api.renameTag(box.dataset.tag, to);
      location.href = inboxUrl(box.dataset.inbox, tagQuery(renamed.name));
    } catch (failure) { showError("rename-tag-error", failure); }
  });
}

function startDelete(box) {
  const dialog = document.getElementById("delete-tag-dialog");
  box.querySelector('[data-tag-action="delete"]').addEventListener("click", () => {
    document.getElementById("delete-tag-error").hidden = true;
    dialog.showModal();
  });
  document.getElementById("delete-tag-confirm").addEventListener("click", async (event) => {
    event.preventDefault();
    try {
      await api.deleteTag(box.dataset.tag);
      location.href = inboxUrl(box.dataset.inbox, "");
    } catch (failure) { showError("delete-tag-error", failure); }
  });
}

export function startTagActions() {
  const box = document.querySelector(".tag-actions");
  if (!box) return;
  startRename(box);
  startDelete(box);
}
