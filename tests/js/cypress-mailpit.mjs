// The requests cypress-mailpit 1.4.0 builds, replayed from Node: its own MailpitCommands
// class is loaded with small stand-ins for the two Cypress globals it uses. `cy.request`
// sends with fetch what Cypress would send (qs, auth, a JSON body, redirects followed, an
// error on a 4xx/5xx status); Cypress itself is never installed.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

function install(base) {
  globalThis.Cypress = {
    env: (name) => ({ MAILPIT_URL: base })[name],
    config: (name) => ({ defaultCommandTimeout: 10000 })[name],
  };
  globalThis.cy = {
    request: async ({ method, url, qs, body, auth }) => {
      const target = new URL(url);
      for (const [key, value] of Object.entries(qs ?? {})) target.searchParams.set(key, String(value));
      const headers = {};
      if (auth) headers.Authorization = `Basic ${Buffer.from(`${auth.user}:${auth.pass}`).toString("base64")}`;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const response = await fetch(target, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      if (response.status >= 400) throw new Error(`cy.request failed: ${response.status} ${text}`);
      const json = (response.headers.get("content-type") ?? "").includes("json");
      return { status: response.status, body: json ? JSON.parse(text) : text };
    },
    wrap: async (value) => value,
    wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
  const { MailpitCommands } = require("cypress-mailpit/src/MailpitCommands.js");
  return new MailpitCommands();
}

const subjects = (summary) => summary.messages.map((m) => m.Subject);

export async function getAllMails(base) {
  const summary = await install(base).mailpitGetAllMails();
  return { count: summary.messages_count, subjects: subjects(summary) };
}

export async function getMail(base) {
  const commands = install(base);
  const message = await commands.mailpitGetMail();
  return {
    subject: await commands.mailpitGetSubject(message),
    from: await commands.mailpitGetFromAddress(message),
    to: await commands.mailpitGetRecipientAddress(message),
    attachments: await commands.mailpitGetAttachments(message),
    html: await commands.mailpitGetMailHTMlBody(message),
    text: await commands.mailpitGetMailTextBody(message),
  };
}

export async function sendMail(base) {
  return await install(base).mailpitSendMail({ subject: "Sent by cypress-mailpit", textBody: "hi" });
}

export async function searchBySubjectAndTo(base, { subject, to }) {
  const commands = install(base);
  return {
    subject: subjects(await commands.mailpitGetEmailsBySubject(subject)),
    to: subjects(await commands.mailpitGetEmailsByTo(to)),
    has: (await commands.mailpitHasEmailsBySubject(subject, 0, 50, { timeout: 10000 })).messages_count,
    hasNot: (await commands.mailpitNotHasEmailsByTo("nobody@example.com")).messages_count,
  };
}

export async function setRead(base) {
  const commands = install(base);
  const summary = await commands.mailpitGetAllMails();
  await commands.mailpitSetStatusAsRead(summary.messages[0]);
  const one = (await commands.mailpitGetAllMails()).messages.map((m) => m.Read);
  await commands.mailpitSetAllEmailStatusAsUnRead();
  const none = (await commands.mailpitGetAllMails()).messages.map((m) => m.Read);
  return { one, none };
}

export async function deleteBySearch(base, { query }) {
  const commands = install(base);
  await commands.mailpitDeleteEmailsBySearch(query);
  return subjects(await commands.mailpitGetAllMails());
}

export async function deleteAll(base) {
  const commands = install(base);
  await commands.mailpitDeleteAllEmails();
  return (await commands.mailpitGetAllMails()).messages_count;
}

export async function spamSummary(base) {
  const commands = install(base);
  const message = await commands.mailpitGetMail();
  try {
    await commands.mailpitGetMailSpamAssassinSummary(message);
  } catch (error) {
    return error.message;
  }
  return "no error";
}
