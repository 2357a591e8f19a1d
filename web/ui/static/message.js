// The message page: tabs (with arrow keys and #hash), preview widths, read/delete actions.
import { api, toast } from "./api.js";
import { typing } from "./keys.js";

const tabs = () => Array.from(document.querySelectorAll('[role="tab"]'));

function select(tab, focus = false) {
  tabs().forEach((other) => {
    const on = other === tab;
    other.setAttribute("aria-selected", String(on));
    other.tabIndex = on ? 0 : -1;
    document.getElementById(other.getAttribute("aria-controls")).hidden = !on;
  });
  if (focus) tab.focus();
  history.replaceState(null, "", `#${tab.dataset.tab}`);
}

function startTabs() {
  const list = tabs();
  list.forEach((tab, i) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (step) select(list[(i + step + list.length) % list.length], true);
      if (event.key === "Home") select(list[0], true);
      if (event.key === "End") select(list[list.length - 1], true);
    });
  });
  const wanted = list.find((tab) => `#${tab.dataset.tab}` === location.hash);
  if (wanted) select(wanted);
}

function startWidths() {
  const frame = document.getElementById("html-frame");
  if (!frame) return;
  document.querySelectorAll("[data-width]").forEach((button) => {
    button.addEventListener("click", () => {
      frame.className = `width-${button.dataset.width}`;
      document.querySelectorAll("[data-width]").forEach((other) => {
        other.setAttribute("aria-pressed", String(other === button));
      });
    });
  });
}

function backToInbox() {
  location.href = document.querySelector('[data-key="back"]').href;
}

async function remove(id) {
  try {
    await api.deleteMessage(id);
    backToInbox();
  } catch (error) { toast(error.message); }
}

// Opening a message marks it read with a PATCH from here: a GET of the page changes nothing.
async function markRead(article) {
  if (article.dataset.read === "true") return;
  try {
    await api.setRead(article.dataset.id, true);
    article.dataset.read = "true";
  } catch (error) { toast(error.message); }
}

export function startMessage() {
  const article = document.querySelector("article.message");
  const id = article.dataset.id;
  markRead(article);
  startTabs();
  startWidths();
  document.querySelector('.message-actions [data-action="delete"]').addEventListener("click", () => remove(id));
  document.querySelector('.message-actions [data-action="unread"]').addEventListener("click", async () => {
    try {
      await api.setRead(id, false);
      toast("Marked unread");
    } catch (error) { toast(error.message); }
  });
  document.addEventListener("keydown", (event) => {
    if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Delete") remove(id);
    if (event.key === "u" || event.key === "Escape") backToInbox();
  });
}
