// The inbox list: selection, actions through the JSON API, keyboard, live new mail (SSE).
import { api, toast } from "./api.js";
import { typing } from "./keys.js";
import { formatTime } from "./times.js";
import { dataOf, debounced, openEvents } from "./live.js";

const table = () => document.getElementById("messages");
const rows = () => Array.from(table().querySelectorAll("tbody tr.msg"));
const picked = () => rows().filter((row) => row.querySelector(".pick").checked);
let current = -1;

function filters() {
  const params = {};
  if (table().dataset.inbox) params.inbox = table().dataset.inbox;
  if (table().dataset.query) params.query = table().dataset.query;
  return params;
}

function setCurrent(index, focus = true) {
  const all = rows();
  if (!all.length) { current = -1; return; }
  current = Math.max(0, Math.min(index, all.length - 1));
  all.forEach((row, i) => row.classList.toggle("current", i === current));
  const row = all[current];
  if (focus) row.querySelector("a.subject").focus({ preventScroll: true });
  row.scrollIntoView({ block: "nearest" });
}

function refreshToolbar() {
  const count = picked().length;
  document.querySelectorAll('.toolbar [data-action="read"], .toolbar [data-action="unread"], .toolbar [data-action="delete"]')
    .forEach((button) => { button.disabled = count === 0; });
  rows().forEach((row) => row.classList.toggle("selected", row.querySelector(".pick").checked));
  const all = document.getElementById("select-all");
  all.checked = count > 0 && count === rows().length;
  all.indeterminate = count > 0 && count < rows().length;
}

function changeTotal(by) {
  const el = document.getElementById("total");
  const total = Math.max(0, Number(el.dataset.total) + by);
  el.dataset.total = String(total);
  el.textContent = `${total} message${total === 1 ? "" : "s"}`;
  document.getElementById("empty").hidden = rows().length > 0;
  document.querySelector('[data-action="delete-all"]').disabled = total === 0;
}

function removeRows(ids) {
  const wanted = new Set(ids.map(String));
  let removed = 0;
  rows().forEach((row) => {
    if (wanted.has(row.dataset.id)) { row.remove(); removed += 1; }
  });
  if (removed) {
    changeTotal(-removed);
    refreshToolbar();
    if (current >= rows().length) setCurrent(rows().length - 1, false);
  }
  return removed;
}

async function deleteRows(targets) {
  const ids = targets.map((row) => row.dataset.id);
  const index = current;
  await Promise.all(ids.map((id) => api.deleteMessage(id).catch(() => null)));
  removeRows(ids);
  toast(`Deleted ${ids.length} message${ids.length === 1 ? "" : "s"}`);
  if (rows().length) setCurrent(index);
  refreshInboxes();
}

async function markRows(targets, read) {
  await Promise.all(targets.map((row) => api.setRead(row.dataset.id, read)));
  targets.forEach((row) => row.classList.toggle("unread", !read));
  toast(`Marked ${targets.length} as ${read ? "read" : "unread"}`);
  refreshInboxes();
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
      changeTotal(-Number(document.getElementById("total").dataset.total));
      toast("Deleted all");
      refreshInboxes();
    } catch (error) { toast(error.message); }
  }, { once: true });
}

async function act(action) {
  const targets = picked();
  try {
    if (action === "delete-all") return confirmDeleteAll();
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
  row.querySelector(".to").textContent = `to ${to.join(", ")}`;
  row.querySelector("a.subject").href = url;
  row.querySelector("a.subject").textContent = summary.subject || "(no subject)";
  row.querySelector(".pick").setAttribute("aria-label", `Select message ${summary.subject || "(no subject)"}`);
  const tag = row.querySelector(".tag");
  tag.hidden = summary.inbox === "default";
  tag.textContent = summary.inbox;
  const time = row.querySelector("time");
  time.setAttribute("datetime", summary.received_at);
  time.textContent = formatTime(summary.received_at);
  updateRow(row, summary);
  return row;
}

// What can change after a message arrives: read state, and the snippet and attachment count
// that indexing fills in just after the commit.
function updateRow(row, summary) {
  if (typeof summary.read === "boolean") row.classList.toggle("unread", !summary.read);
  if (summary.snippet !== undefined) row.querySelector(".snippet").textContent = summary.snippet || "";
  if (summary.attachment_count === undefined) return;
  const clip = row.querySelector(".clip");
  const label = `${summary.attachment_count} attachment(s)`;
  clip.hidden = !summary.attachment_count;
  clip.title = label;
  clip.setAttribute("aria-label", label);
}

async function showNewMail() {
  const newest = Math.max(0, ...rows().map((row) => Number(row.dataset.id)));
  const page = await api.listMessages({ ...filters(), limit: 50 });
  const fresh = page.messages.filter((m) => Number(m.id) > newest).reverse();
  const body = table().querySelector("tbody");
  fresh.forEach((summary) => {
    const row = rowFor(summary);
    row.classList.add("fresh");
    body.prepend(row);
  });
  if (fresh.length) {
    if (current >= 0) current += fresh.length;
    const el = document.getElementById("total");
    el.dataset.total = String(page.total - 1);
    changeTotal(1);
  }
}

function inboxItem(href, label, total, unread, current, name) {
  const link = Object.assign(document.createElement("a"), { href });
  if (name !== undefined) link.dataset.inbox = name;
  if (current) link.setAttribute("aria-current", "true");
  const counts = Object.assign(document.createElement("span"), { className: "counts" });
  counts.setAttribute("aria-label", `${total} messages, ${unread} unread`);
  if (unread) counts.append(Object.assign(document.createElement("span"),
    { className: "unread-pill", title: "unread", textContent: String(unread) }));
  counts.append(Object.assign(document.createElement("span"),
    { className: "count", textContent: String(total) }));
  link.append(Object.assign(document.createElement("span"),
    { className: "inbox-name", textContent: label }), counts);
  const item = document.createElement("li");
  item.append(link);
  return item;
}

async function refreshInboxes() {
  try {
    const { inboxes } = await api.inboxes();
    const shown = table().dataset.inbox;
    const sum = (key) => inboxes.reduce((n, box) => n + box[key], 0);
    const items = [inboxItem("/", "All inboxes", sum("total"), sum("unread"), !shown)];
    inboxes.forEach((box) => items.push(inboxItem(`/?${new URLSearchParams({ inbox: box.name })}`,
      box.name, box.total, box.unread, box.name === shown, box.name)));
    document.querySelector(".inboxes ul").replaceChildren(...items);
  } catch { /* counts are a nicety; the list itself is already right */ }
}

function startLive() {
  if (table().dataset.firstPage !== "1") return;
  const source = openEvents(table().dataset.inbox);
  if (!source) return;
  const later = debounced(() => { showNewMail().catch(() => {}); refreshInboxes(); });
  source.addEventListener("message", later);
  source.addEventListener("updated", (event) => {
    const summary = dataOf(event);
    const row = rows().find((r) => r.dataset.id === String(summary.id));
    if (row) updateRow(row, summary);
    refreshInboxes();
  });
  source.addEventListener("deleted", (event) => {
    removeRows(dataOf(event).ids || []);
    refreshInboxes();
  });
  // The server forgot events we missed: the list may be stale, so show it afresh.
  source.addEventListener("reset", () => { if (!picked().length) location.reload(); });
}

export function startInbox() {
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
  document.addEventListener("keydown", onKey);
  startLive();
}
