// The sessions list: a whole row opens its transcript; on the newest page, sessions that start
// or end while it is open replace the list (the server renders rows, problems included).
import { localizeTimes } from "./times.js";
import { dataOf, debounced, openEvents } from "./live.js";

const body = () => document.querySelector("table.sessions tbody");

function bindRows(root) {
  root.querySelectorAll("tr[data-url]").forEach((row) => {
    row.addEventListener("click", (event) => {
      if (!event.target.closest("a")) location.href = row.dataset.url;
    });
  });
}

async function refresh() {
  const response = await fetch(location.href, { headers: { Accept: "text/html" } });
  if (!response.ok) return;
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const fresh = page.querySelector("table.sessions tbody");
  if (!fresh) return;
  localizeTimes(fresh);
  bindRows(fresh);
  body().replaceWith(document.adoptNode(fresh));
}

export function startSessions() {
  bindRows(body());
  const table = document.querySelector("table.sessions");
  if (table.dataset.firstPage !== "1") return;
  const source = openEvents(table.dataset.inbox);
  if (!source) return;
  const later = debounced(() => { refresh().catch(() => {}); });
  source.addEventListener("session", later);
  source.addEventListener("reset", later);
}

// One session's page: while the session is open, show it afresh once it ends.
export function startSession() {
  const note = document.querySelector("[data-open-session]");
  if (!note) return;
  const source = openEvents("");
  if (!source) return;
  source.addEventListener("session", (event) => {
    const session = dataOf(event);
    if (String(session.id) === note.dataset.openSession && session.ended_at) location.reload();
  });
  source.addEventListener("reset", () => location.reload());
}
