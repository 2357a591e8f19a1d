// The inbox list: selection, actions through the JSON API, keyboard, and a live window (SSE).
//
// The page always shows one unbroken stretch of the list as the API has it: the newest
// matches, or (on an older page, or once more mail arrived than the page holds) the matches
// below a fixed id, with a bar offering the newer ones. Each burst of changes fetches that
// stretch again, so counts, deletions and late search matches are never out of step.
import { api, tagChip, toast } from "./api.js";
import { typing } from "./keys.js";
import { formatTime } from "./times.js";
import { coalesced, openEvents } from "./live.js";
import { followInboxes, refreshInboxes } from "./sidebar.js";

const table = () => document.getElementById("messages");
const body = () => table().querySelector("tbody");
const rows = () => Array.from(body().querySelectorAll("tr.msg"));
const picked = () => rows().filter((row) => row.querySelector(".pick").checked);
const pageSize = () => Number(table().dataset.pageSize);
const firstPage = () => table().dataset.firstPage === "1";
let current = -1;
// The window shown: null = the newest matches; an id = the matches older than it.
let anchor = null;

function filters() {
  const params = {};
  if (table().dataset.inbox) params.inbox = table().dataset.inbox;
  if (table().dataset.query) params.query = table().dataset.query;
  return params;
}

function setCurrent(index, focus = true, scroll = true) {
  const all = rows();
  if (!all.length) { current = -1; return; }
  current = Math.max(0, Math.min(index, all.length - 1));
  all.forEach((row, i) => row.classList.toggle("current", i === current));
  const row = all[current];
  if (focus) row.querySelector("a.subject").focus({ preventScroll: true });
  if (scroll) row.scrollIntoView({ block: "nearest" });
}

function refreshToolbar() {
  const count = picked().length;
  document.querySelectorAll('.toolbar [data-action="read"], .toolbar [data-action="unread"], .toolbar [data-action="delete"], .toolbar [data-action="tag"]')
    .forEach((button) => { button.disabled = count === 0; });
  rows().forEach((row) => row.classList.toggle("selected", row.querySelector(".pick").checked));
  const all = document.getElementById("select-all");
  all.checked = count > 0 && count === rows().length;
  all.indeterminate = count > 0 && count < rows().length;
}

function removeRows(ids) {
  const wanted = new Set(ids.map(String));
  rows().forEach((row) => { if (wanted.has(row.dataset.id)) row.remove(); });
  refreshToolbar();
  if (current >= rows().length) setCurrent(rows().length - 1, false);
}

async function deleteRows(targets) {
  const ids = targets.map((row) => row.dataset.id);
  const index = current;
  await Promise.all(ids.map((id) => api.deleteMessage(id).catch(() => null)));
  removeRows(ids);
  toast(`Deleted ${ids.length} message${ids.length === 1 ? "" : "s"}`);
  if (rows().length) setCurrent(index);
  refresh();
}

async function markRows(targets, read) {
  await Promise.all(targets.map((row) => api.setRead(row.dataset.id, read)));
  targets.forEach((row) => row.classList.toggle("unread", !read));
  toast(`Marked ${targets.length} as ${read ? "read" : "unread"}`);
  refresh();
}

function confirmDeleteAll() {
  const dialog = document.getElementById("confirm-dialog");
  const total = document.getElementById("total").dataset.total;
  const where = table().dataset.query ? "matching this search" :
    table().dataset.inbox ? `in inbox “${table().dataset.inbox}”` : "in every inbox";
  document.getElementById("confirm-text").textContent =
    `Delete all ${total} messages ${where}? This cannot be undone.`;
  dialog.returnValue = "";
  dialog.showModal();
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "ok") return;
    try {
      await api.deleteMatching({ ...filters(), all: "true" });
      removeRows(rows().map((row) => row.dataset.id));
      toast("Deleted all");
      refresh();
    } catch (error) { toast(error.message); }
  }, { once: true });
}

// Export the selection, or else everything the page lists (its inbox and search).
function exportRows(targets) {
  const params = targets.length ? { ids: targets.map((row) => row.dataset.id).join(",") } : filters();
  const link = Object.assign(document.createElement("a"),
    { href: `/api/v1/export?${new URLSearchParams({ ...params, format: "mbox" })}` });
  link.setAttribute("download", "");
  document.body.append(link);
  link.click();
  link.remove();
}

async function importFile(file) {
  const params = { filename: file.name };
  if (table().dataset.inbox) params.inbox = table().dataset.inbox;
  const done = await api.importFile(params, file);
  const failed = done.failed.length ? `, ${done.failed.length} failed: ${done.failed[0].where}: ${done.failed[0].reason}` : "";
  toast(`Imported ${done.imported}, skipped ${done.skipped} duplicates${failed}`);
  refreshInboxes();
}

function showTags(row, tags) {
  row.dataset.tags = JSON.stringify(tags);
  row.querySelector(".chips").replaceChildren(...tags.map(tagChip));
}

async function tagRows(targets, name) {
  await Promise.all(targets.map(async (row) => {
    const tags = JSON.parse(row.dataset.tags || "[]");
    if (tags.some((t) => t.toLowerCase() === name.toLowerCase())) return;
    const summary = await api.setTags(row.dataset.id, [...tags, name]);
    showTags(row, summary.tags);
  }));
  toast(`Tagged ${targets.length} with “${name}”`);
}

function askTag(targets) {
  const dialog = document.getElementById("tag-dialog");
  const input = document.getElementById("tag-name");
  input.value = "";
  dialog.returnValue = "";
  dialog.showModal();
  dialog.addEventListener("close", async () => {
    const name = input.value.trim();
    if (dialog.returnValue !== "ok" || !name) return;
    try { await tagRows(targets, name); } catch (error) { toast(error.message); }
  }, { once: true });
}

async function act(action) {
  const targets = picked();
  try {
    if (action === "delete-all") return confirmDeleteAll();
    if (action === "export") return exportRows(targets);
    if (action === "import") return document.getElementById("import-file").click();
    if (action === "tag" && targets.length) return askTag(targets);
    if (!targets.length) return;
    if (action === "delete") await deleteRows(targets);
    if (action === "read" || action === "unread") await markRows(targets, action === "read");
  } catch (error) { toast(error.message); }
}

function onKey(event) {
  if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
  const all = rows();
  if (event.key === "j" || event.key === "ArrowDown" && current >= 0) {
    event.preventDefault();
    setCurrent(current + 1);
  } else if (event.key === "k" || event.key === "ArrowUp" && current >= 0) {
    event.preventDefault();
    setCurrent(current < 0 ? 0 : current - 1);
  } else if (event.key === "Enter" && current >= 0 && event.target.tagName !== "A" && event.target.tagName !== "BUTTON") {
    location.href = all[current].dataset.url;
  } else if (event.key === "x" && current >= 0) {
    const box = all[current].querySelector(".pick");
    box.checked = !box.checked;
    refreshToolbar();
  } else if ((event.key === "Delete" || event.key === "Backspace") && all.length) {
    event.preventDefault();
    const targets = picked().length ? picked() : current >= 0 ? [all[current]] : [];
    if (targets.length) deleteRows(targets).catch((error) => toast(error.message));
  }
}

function rowFor(summary) {
  const row = document.getElementById("row-template").content.firstElementChild.cloneNode(true);
  const url = `/messages/${encodeURIComponent(summary.id)}`;
  const from = summary.from ? summary.from.name || summary.from.address : summary.mail_from || "<>";
  const to = summary.to.length ? summary.to.map((box) => box.address) : summary.rcpt_to;
  row.dataset.id = summary.id;
  row.dataset.url = url;
  row.querySelector(".from").textContent = from;
  row.querySelector(".from").title = summary.from ? summary.from.address : summary.mail_from;
  row.querySelector(".to").textContent = `to ${to.join(", ")}`;
  row.querySelector(".to").title = summary.rcpt_to.join(", ");
  row.querySelector("a.subject").href = url;
  row.querySelector("a.subject").textContent = summary.subject || "(no subject)";
  row.querySelector(".pick").setAttribute("aria-label", `Select message ${summary.subject || "(no subject)"}`);
  const tag = row.querySelector(".tag");
  tag.hidden = summary.inbox === "default";
  tag.textContent = tag.title = summary.inbox;
  const time = row.querySelector("time");
  time.setAttribute("datetime", summary.received_at);
  time.title = new Date(summary.received_at).toString();
  time.textContent = formatTime(summary.received_at);
  updateRow(row, summary);
  showFailures(row, summary.id);
  return row;
}

// A row's badge: how many deliverability checks fail. The server keeps each report once
// computed (~20 ms a message), and sends the list without computing any: rows it has no
// report for yet (data-pending) and rows arriving live ask here, CHECKING at a time, so
// that a page of new mail does not hold every server thread at once.
const CHECKING = 2;
const waitingBadges = [];
let checking = 0;

function showFailures(row, id) {
  waitingBadges.push([row, id]);
  checkNext();
}

function checkNext() {
  while (checking < CHECKING && waitingBadges.length) {
    checking += 1;
    const [row, id] = waitingBadges.shift();
    fillBadge(row, id).finally(() => { checking -= 1; checkNext(); });
  }
}

async function fillBadge(row, id) {
  try {
    const { summary } = await api.checks(id);
    const badge = row.querySelector(".check-fails");
    badge.textContent = `${summary.fail} failing`;
    badge.title = `${summary.fail} deliverability check(s) fail`;
    badge.hidden = !summary.fail;
    delete badge.dataset.pending;
  } catch { /* the badge is a nicety; the message page shows the checks */ }
}

// What can change after a message arrives: read state, and the snippet and attachment count
// that indexing fills in just after the commit.
function updateRow(row, summary) {
  if (typeof summary.read === "boolean") row.classList.toggle("unread", !summary.read);
  if (Array.isArray(summary.tags)) showTags(row, summary.tags);
  if (summary.snippet !== undefined) row.querySelector(".snippet").textContent = summary.snippet || "";
  if (summary.attachment_count === undefined) return;
  const clip = row.querySelector(".clip");
  const label = `${summary.attachment_count} attachment(s)`;
  clip.hidden = !summary.attachment_count;
  clip.title = label;
  clip.setAttribute("aria-label", label);
}

const topId = () => Math.max(0, ...rows().map((row) => Number(row.dataset.id)));

// Fetch the window this page shows. The newest page replaces the rows only while it still
// reaches down to them; when more arrived than a page holds, the page keeps its place.
async function fetchWindow(newest) {
  const params = { ...filters(), limit: pageSize() };
  if (anchor === null) {
    const page = await api.listMessages(params);
    const top = topId();
    const last = page.messages[page.messages.length - 1];
    if (newest || !top || page.messages.length < pageSize() || Number(last.id) <= top) {
      return { page, newer: 0 };
    }
    anchor = top + 1;
  }
  const [page, newer] = await Promise.all([
    api.listMessages({ ...params, before: anchor }),
    api.listMessages({ ...filters(), limit: 0, after: anchor - 1 }),
  ]);
  if (firstPage() && (newer.total === 0 || page.messages.length === 0)) {
    anchor = null;  // nothing newer any more, or nothing left here: follow the newest again
    return fetchWindow(true);
  }
  return { page, newer: newer.total };
}

// Make the rows exactly the window's messages, keeping the rows (and their selection) that
// stay; only mail newer than the rows shown before is marked fresh.
function showRows(messages) {
  const top = topId();
  const currentId = current >= 0 ? rows()[current]?.dataset.id : undefined;
  const kept = new Map(rows().map((row) => [row.dataset.id, row]));
  const wanted = messages.map((summary) => {
    const row = kept.get(String(summary.id));
    if (row) {
      kept.delete(String(summary.id));
      updateRow(row, summary);
      return row;
    }
    const fresh = rowFor(summary);
    if (Number(summary.id) > top) fresh.classList.add("fresh");
    return fresh;
  });
  kept.forEach((row) => row.remove());
  wanted.forEach((row, i) => {
    if (body().children[i] !== row) body().insertBefore(row, body().children[i] || null);
  });
  if (current >= 0) {  // the same message stays current, where it now is; the page stays put
    const index = rows().findIndex((row) => row.dataset.id === currentId);
    setCurrent(index >= 0 ? index : current, false, false);
  }
  refreshToolbar();
}

function showTotal(total) {
  const el = document.getElementById("total");
  el.dataset.total = String(total);
  el.textContent = `${total} message${total === 1 ? "" : "s"}`;
  document.querySelector('[data-action="delete-all"]').disabled = total === 0;
}

function showPager(page, newer) {
  const below = page.total - newer - rows().length;  // matches older than the last row
  const older = document.getElementById("older");
  older.hidden = below <= 0 || !rows().length;
  if (!older.hidden) {
    older.href = `/?${new URLSearchParams({ ...filters(), before: rows().at(-1).dataset.id })}`;
  }
  const empty = document.getElementById("empty");
  empty.hidden = rows().length > 0;
  empty.querySelector(".when-none").hidden = page.total > 0;
  empty.querySelector(".when-page-empty").hidden = page.total === 0;
  const bar = document.getElementById("new-bar");
  bar.hidden = !(firstPage() && anchor !== null && newer > 0);
  bar.querySelector("button").textContent =
    `${newer} new message${newer === 1 ? "" : "s"} — show`;
}

async function reconcile(newest = false) {
  const { page, newer } = await fetchWindow(newest);
  showRows(page.messages);
  showTotal(page.total);
  showPager(page, newer);
  await refreshInboxes();
}

const refresh = coalesced(() => reconcile());

function startLive() {
  anchor = firstPage() ? null : Number(table().dataset.before);
  document.querySelector("#new-bar button").addEventListener("click", () => {
    anchor = null;
    reconcile(true).then(() => setCurrent(0)).catch((error) => toast(error.message));
  });
  if (table().dataset.live !== "1") return;
  const source = openEvents(table().dataset.inbox);
  if (!source) return;
  followInboxes(source);
  // Any change may move the window: new mail, mail that matches once indexed or read, deletions;
  // after `reset` (the server forgot events this page missed) the same fetch catches up.
  ["message", "updated", "deleted", "reset"].forEach((kind) => {
    source.addEventListener(kind, refresh);
  });
}

export function startInbox() {
  if (!table()) return; // a search that could not run shows its error alone
  table().addEventListener("change", (event) => {
    if (event.target.classList.contains("pick")) refreshToolbar();
  });
  table().addEventListener("click", (event) => {
    const row = event.target.closest("tr.msg");
    if (!row || event.target.closest("a, input, label, .sel")) return;
    location.href = row.dataset.url;
  });
  document.getElementById("select-all").addEventListener("change", (event) => {
    rows().forEach((row) => { row.querySelector(".pick").checked = event.target.checked; });
    refreshToolbar();
  });
  document.querySelectorAll(".toolbar [data-action]").forEach((button) => {
    button.addEventListener("click", () => act(button.dataset.action));
  });
  document.getElementById("import-file").addEventListener("change", (event) => {
    const [file] = event.target.files;
    event.target.value = "";
    if (file) importFile(file).catch((error) => toast(error.message));
  });
  document.addEventListener("keydown", onKey);
  rows().filter((row) => row.querySelector(".check-fails[data-pending]"))
    .forEach((row) => showFailures(row, row.dataset.id));
  startLive();
}
