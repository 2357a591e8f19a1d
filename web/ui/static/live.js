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

// Bursts of changes arrive as many events: act once per burst.
export function debounced(action, ms = 150) {
  let pending = null;
  return () => {
    clearTimeout(pending);
    pending = setTimeout(action, ms);
  };
}
