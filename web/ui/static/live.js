// The page's live event stream (/api/v1/events), resumed from the change the page was built at,
// so nothing that happened between rendering the page and opening the stream is missed.
export function openEvents(inbox) {
  if (!window.EventSource) return null;
  const params = new URLSearchParams();
  if (inbox) params.set("inbox", inbox);
  // Only the first connection uses this; reconnects send the Last-Event-ID header, which wins.
  if (document.body.dataset.since) params.set("last_event_id", document.body.dataset.since);
  const query = params.toString();
  const source = new EventSource(`/api/v1/events${query ? `?${query}` : ""}`);
  source.addEventListener("open", () => { document.body.dataset.live = "open"; });
  source.addEventListener("error", () => { document.body.dataset.live = "reconnecting"; });
  return source;
}

export function dataOf(event) {
  try { return JSON.parse(event.data); } catch { return {}; }
}

// Bursts of changes arrive as many events: run `action` once per burst, never two at once,
// and once more after a run if changes came in meanwhile, so the last change is always seen.
export function coalesced(action, ms = 100) {
  let timer = null;
  let running = false;
  let again = false;
  async function run() {
    timer = null;
    if (running) { again = true; return; }
    running = true;
    try { await action(); } catch { /* the next change tries again */ }
    running = false;
    if (again) { again = false; schedule(); }
  }
  function schedule() {
    if (timer === null) timer = setTimeout(run, ms);
  }
  return schedule;
}
