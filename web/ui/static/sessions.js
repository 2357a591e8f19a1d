// The sessions list: a whole row opens its transcript; on the newest page, sessions that start
// or end while it is open are drawn from their events (problems included), never re-fetched.
import { formatTime } from "./times.js";
import { dataOf, openEvents } from "./live.js";
import { followInboxes } from "./sidebar.js";

const table = () => document.querySelector("table.sessions");
const body = () => table().querySelector("tbody");
const rows = () => Array.from(body().querySelectorAll("tr[data-id]"));

// As the server's duration(): seconds with milliseconds, minutes past one minute.
function duration(session) {
  if (!session.ended_at) return "open";
  const seconds = (new Date(session.ended_at) - new Date(session.started_at)) / 1000;
  return seconds < 60 ? `${seconds.toFixed(3)}s` : `${(seconds / 60).toFixed(1)}min`;
}

function fill(row, session) {
  const url = `/sessions/${encodeURIComponent(session.id)}`;
  row.dataset.id = session.id;
  row.dataset.url = url;
  row.className = session.problems.length ? "failed" : "ok";
  const link = row.querySelector(".s-id a");
  link.href = url;
  link.textContent = `#${session.id}`;
  const time = row.querySelector(".s-start time");
  time.setAttribute("datetime", session.started_at);
  time.title = new Date(session.started_at).toString();
  time.textContent = formatTime(session.started_at);
  row.querySelector(".s-addr").textContent = session.peer;
  row.querySelector(".s-peer .badge").hidden = !session.tls;
  const kind = row.querySelector(".s-kind");
  kind.className = `badge s-kind kind-${session.kind}`;
  kind.textContent = session.kind;
  kind.hidden = session.kind === "smtp";
  const name = row.querySelector(".s-name");
  name.textContent = name.title = session.inbox;
  row.querySelector(".s-inbox .muted").hidden = !session.auth_user;
  row.querySelector(".s-count").textContent = String(session.message_ids.length);
  row.querySelector(".s-reason").textContent = session.end_reason || "open";
  row.querySelector(".s-end .muted").textContent = duration(session);
  const cell = row.querySelector(".s-problems");
  if (session.problems.length) {
    const badge = Object.assign(document.createElement("span"),
      { className: "badge fail", textContent: "failed" });
    cell.replaceChildren(badge, ` ${session.problems.map((p) => p.text).join("; ")}`);
  } else {
    cell.replaceChildren(Object.assign(document.createElement("span"),
      { className: "muted", textContent: "—" }));
  }
}

function blankRow() {
  return document.getElementById("session-row-template").content.firstElementChild.cloneNode(true);
}

// A session event: redraw its row, or put a new session on top (the page keeps its size).
function show(session) {
  const existing = rows().find((row) => row.dataset.id === String(session.id));
  if (existing) { fill(existing, session); return; }
  const newest = Math.max(0, ...rows().map((row) => Number(row.dataset.id)));
  if (Number(session.id) < newest) return;  // older than this page's newest: pruned or paged
  const row = blankRow();
  fill(row, session);
  body().querySelector("tr.none")?.remove();
  body().prepend(row);
  const size = Number(table().dataset.pageSize);
  const all = rows();
  all.slice(size).forEach((extra) => extra.remove());
  if (all.length > size) {
    const older = document.getElementById("older");
    const params = new URLSearchParams({ before: all[size - 1].dataset.id });
    if (table().dataset.inbox) params.set("inbox", table().dataset.inbox);
    older.href = `/sessions?${params}`;
    older.hidden = false;
  }
}

export function startSessions() {
  body().addEventListener("click", (event) => {
    const row = event.target.closest("tr[data-url]");
    if (row && !event.target.closest("a")) location.href = row.dataset.url;
  });
  if (table().dataset.firstPage !== "1") return;
  const source = openEvents(table().dataset.inbox);
  if (!source) return;
  followInboxes(source);
  source.addEventListener("session", (event) => show(dataOf(event)));
  // The server forgot events this page missed: show the list afresh.
  source.addEventListener("reset", () => location.reload());
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
