// The message page: tabs (with arrow keys and #hash), preview widths, read/delete actions.
import { api, toast } from "./api.js";

function currentTags() {
  return JSON.parse(document.querySelector(".tag-editor").dataset.tags || "[]");
}

function showTags(tags) {
  document.querySelector(".tag-editor").dataset.tags = JSON.stringify(tags);
  const chips = tags.map((name) => {
    const chip = Object.assign(document.createElement("span"), { className: "chip", textContent: name });
    const remove = Object.assign(document.createElement("button"),
      { type: "button", className: "chip-remove", textContent: "×" });
    remove.dataset.removeTag = name;
    remove.setAttribute("aria-label", `Remove tag ${name}`);
    chip.append(remove);
    return chip;
  });
  document.getElementById("message-tags").replaceChildren(...chips);
}

async function saveTags(id, tags) {
  try {
    showTags((await api.setTags(id, tags)).tags);
  } catch (error) { toast(error.message); }
}

function startTags(id) {
  document.getElementById("add-tag").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = document.getElementById("new-tag");
    const name = input.value.trim();
    if (!name) return;
    await saveTags(id, [...currentTags(), name]);
    input.value = "";
  });
  document.getElementById("message-tags").addEventListener("click", (event) => {
    const name = event.target.dataset.removeTag;
    if (name !== undefined) saveTags(id, currentTags().filter((t) => t !== name));
  });
}

function startRelease(id) {
  const button = document.querySelector('.message-actions [data-action="release"]');
  const dialog = document.getElementById("release-dialog");
  if (!button || !dialog) return;
  const error = document.getElementById("release-error");
  button.addEventListener("click", () => { error.hidden = true; dialog.showModal(); });
  document.getElementById("release-send").addEventListener("click", async (event) => {
    event.preventDefault();
    const to = document.getElementById("release-to").value.split(",").map((s) => s.trim()).filter(Boolean);
    try {
      const outcome = await api.release(id, to);
      dialog.close();
      toast(outcome.ok ? `Released to ${to.join(", ")}` : `Release failed: ${outcome.reply}`);
      setTimeout(() => location.reload(), 600);
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    }
  });
}
import { typing } from "./keys.js";

const tabs = () => Array.from(document.querySelectorAll('[role="tab"]'));

function select(tab, focus = false) {
  tabs().forEach((other) => {
    const on = other === tab;
    other.setAttribute("aria-selected", String(on));
    other.tabIndex = on ? 0 : -1;
    document.getElementById(other.getAttribute("aria-controls")).hidden = !on;
  });
  if (focus) tab.focus({ preventScroll: true });
  reveal(tab);
  history.replaceState(null, "", `#${tab.dataset.tab}`);
}

// On a narrow window the tabs scroll sideways: bring the selected one into the strip's view.
function reveal(tab) {
  const strip = tab.parentElement.getBoundingClientRect();
  const box = tab.getBoundingClientRect();
  if (box.left < strip.left) tab.parentElement.scrollLeft -= strip.left - box.left + 8;
  if (box.right > strip.right) tab.parentElement.scrollLeft += box.right - strip.right + 8;
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

// The Source tab marks what a strict server would refuse where it is: step through the marks.
let markIndex = -1;

function showMark(step) {
  const marks = Array.from(document.querySelectorAll("pre.source .src-mark"));
  if (!marks.length) return;
  markIndex = (markIndex + step + marks.length) % marks.length;
  marks.forEach((mark, i) => mark.classList.toggle("current", i === markIndex));
  marks[markIndex].scrollIntoView({ block: "center" });
}

function startSourceMarks() {
  document.querySelector("[data-next-mark]")?.addEventListener("click", () => showMark(1));
  document.querySelectorAll("[data-show-in-source]").forEach((button) => {
    button.addEventListener("click", () => {
      select(tabs().find((tab) => tab.dataset.tab === "source"));
      markIndex = -1;
      showMark(1);
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
  startTags(id);
  startRelease(id);
  startSourceMarks();
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
