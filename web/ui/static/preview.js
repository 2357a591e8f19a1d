// The HTML preview is as tall as the message: the frame is measured after it loads, after each
// of its images loads, and when its width changes (window, width presets).
//
// The frame is sandboxed with allow-same-origin (so this page can read its height) and never
// allow-scripts, and its document's policy has no script source: nothing in the email runs.
const MIN_HEIGHT = 80;

function fit(frame) {
  const doc = frame.contentDocument;
  if (!doc || !doc.documentElement) return;  // not loaded yet, or not readable
  // Shrink first: a document is never shorter than its frame, and the message may have
  // become shorter (a wider preview). Reading the height lays it out at once, unpainted.
  frame.style.height = `${MIN_HEIGHT}px`;
  const height = Math.max(doc.documentElement.scrollHeight, doc.body ? doc.body.scrollHeight : 0);
  frame.style.height = `${Math.max(MIN_HEIGHT, Math.ceil(height))}px`;
  frame.dataset.fitted = frame.style.height;
}

function followImages(frame) {
  const doc = frame.contentDocument;
  if (!doc) return;
  // Load events do not bubble, but they can be caught on the way down.
  doc.addEventListener("load", () => fit(frame), true);
}

export function startPreview() {
  const frame = document.getElementById("html-frame");
  if (!frame) return;
  const ready = () => { followImages(frame); fit(frame); };
  frame.addEventListener("load", ready);
  if (frame.contentDocument && frame.contentDocument.readyState === "complete") ready();
  let width = 0;
  new ResizeObserver(() => {
    if (frame.clientWidth === width) return;  // only a new width reflows the message
    width = frame.clientWidth;
    fit(frame);
  }).observe(frame);
}
