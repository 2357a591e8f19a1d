// Keys that work on every page: "/" jumps to search, Escape leaves it.
export function typing(event) {
  const el = event.target;
  return el instanceof HTMLElement &&
    (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
}

export function startGlobalKeys() {
  const search = document.getElementById("search-box");
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "/" && !typing(event) && search) {
      event.preventDefault();
      search.focus();
      search.select();
    } else if (event.key === "Escape" && event.target === search) {
      search.blur();
    }
  });
}
