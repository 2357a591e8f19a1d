// The inbox switcher on the left of every page: its counts follow the store while a page is open.
import { api } from "./api.js";
import { coalesced } from "./live.js";

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
    { className: "inbox-name", textContent: label, title: label }), counts);
  const item = document.createElement("li");
  item.append(link);
  return item;
}

// Redraw the switcher from /api/v1/inboxes, so its counts are the API's.
export async function refreshInboxes() {
  const nav = document.querySelector("nav.inboxes");
  if (!nav) return;
  try {
    const { inboxes } = await api.inboxes();
    const shown = nav.dataset.current || "";
    const sum = (key) => inboxes.reduce((n, box) => n + box[key], 0);
    const items = [inboxItem("/", "All inboxes", sum("total"), sum("unread"), !shown)];
    inboxes.forEach((box) => items.push(inboxItem(`/?${new URLSearchParams({ inbox: box.name })}`,
      box.name, box.total, box.unread, box.name === shown, box.name)));
    nav.querySelector("ul").replaceChildren(...items);
  } catch { /* counts are a nicety; the page itself is already right */ }
}

// Keep the counts current while an event stream is open: once per burst of changes.
export function followInboxes(source) {
  const later = coalesced(refreshInboxes);
  ["message", "updated", "deleted", "session", "reset"].forEach((kind) => {
    source.addEventListener(kind, later);
  });
}
