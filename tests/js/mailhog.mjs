// Scenarios with npm mailhog 4.16.0, MailHog's Node client, used as its README shows.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const mailhog = require("mailhog");

function client(base) {
  const url = new URL(base);
  return mailhog({ host: url.hostname, port: Number(url.port), basePath: `${url.pathname.replace(/\/$/, "")}/api` });
}

const decoded = (item) => item && ({
  ID: item.ID, subject: item.subject, from: item.from, to: item.to, cc: item.cc, text: item.text,
  html: item.html, date: item.date?.toISOString() ?? null,
  attachments: item.attachments.map((a) => ({ name: a.name, type: a.type, encoding: a.encoding,
    content: mailhog().decode(a.Body, a.encoding) })),
});

export async function messages(base, { start, limit }) {
  const result = await client(base).messages(start, limit);
  return { total: result.total, count: result.count, start: result.start, items: result.items.map(decoded) };
}

export async function search(base, { query, kind }) {
  const result = await client(base).search(query, kind);
  return { total: result.total, subjects: result.items.map((item) => item.subject) };
}

export async function latest(base, { from, to, containing }) {
  const api = client(base);
  return {
    from: (await api.latestFrom(from))?.subject ?? null,
    to: (await api.latestTo(to))?.subject ?? null,
    containing: (await api.latestContaining(containing))?.subject ?? null,
  };
}

export async function deleteMessage(base, { id }) {
  const api = client(base);
  await api.deleteMessage(id);
  return (await api.messages()).items.map((item) => item.ID);
}

export async function deleteAll(base) {
  const api = client(base);
  await api.deleteAll();
  return (await api.messages()).total;
}
