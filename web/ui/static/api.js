// Calls to the JSON API (/api/v1); every failure becomes an Error with the server's message.
const BASE = "/api/v1";

async function call(method, path, body) {
  const init = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(BASE + path, init);
  const text = await response.text();
  const data = text ? JSON.parse(text) : {};
  if (!response.ok) {
    throw Object.assign(new Error(data.error || `${method} ${path}: ${response.status}`),
      { status: response.status });
  }
  return data;
}

export const api = {
  listMessages: (params) => call("GET", `/messages?${new URLSearchParams(params)}`),
  getMessage: (id) => call("GET", `/messages/${encodeURIComponent(id)}`),
  setRead: (id, read) => call("PATCH", `/messages/${encodeURIComponent(id)}`, { read }),
  deleteMessage: (id) => call("DELETE", `/messages/${encodeURIComponent(id)}`),
  deleteMatching: (params) => call("DELETE", `/messages?${new URLSearchParams(params)}`),
  inboxes: () => call("GET", "/inboxes"),
  importFile: async (params, file) => {
    const response = await fetch(`${BASE}/import?${new URLSearchParams(params)}`,
      { method: "POST", headers: { Accept: "application/json" }, body: file });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `import: ${response.status}`);
    return data;
  },
  checks: (id) => call("GET", `/messages/${encodeURIComponent(id)}/checks`),
  setTags: (id, tags) => call("PATCH", `/messages/${encodeURIComponent(id)}`, { tags }),
  renameTag: (name, to) => call("PUT", `/tags/${encodeURIComponent(name)}`, { name: to }),
  deleteTag: (name) => call("DELETE", `/tags/${encodeURIComponent(name)}`),
  release: (id, to) => call("POST", `/messages/${encodeURIComponent(id)}/release`, { to }),
};

// The search for one tag, quoted when the name has a space (as the server writes it).
export function tagQuery(name) {
  return name.includes(" ") ? `tag:"${name}"` : `tag:${name}`;
}

export function tagChip(name) {
  const chip = Object.assign(document.createElement("a"), { className: "chip", textContent: name });
  chip.href = `/?${new URLSearchParams({ query: tagQuery(name) })}`;
  return chip;
}

export function toast(text) {
  const el = document.getElementById("toast");
  if (!el) return;
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 3000);
}
