// Show stored UTC times in the reader's own time zone; the full time stays in the title.
const sameDay = (a, b) => a.toDateString() === b.toDateString();

export function formatTime(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  const now = new Date();
  if (sameDay(when, now)) {
    return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }
  return when.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

// The whole date and time, for a page about one message or session.
export function formatFull(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  return when.toLocaleString([], {
    weekday: "short", year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

export function localizeTimes(root) {
  root.querySelectorAll("time[datetime]").forEach((el) => {
    const iso = el.getAttribute("datetime");
    if (!iso) return;
    el.title = new Date(iso).toString();
    el.textContent = el.dataset.format === "full" ? formatFull(iso) : formatTime(iso);
  });
}
