// Scenarios with npm mailpit-api 2.1.0, Mailpit's TypeScript client, used as its README shows.
import { MailpitClient } from "mailpit-api";

const client = (base) => new MailpitClient(base);
const subjects = (summary) => summary.messages.map((m) => m.Subject);

export async function list(base) {
  const summary = await client(base).listMessages();
  return { total: summary.total, count: summary.messages_count, unread: summary.unread,
    subjects: subjects(summary), first: summary.messages[0] };
}

export async function latest(base) {
  const mailpit = client(base);
  const message = await mailpit.getMessageSummary();
  const after = await mailpit.listMessages();
  return { message, read: after.messages.find((m) => m.ID === message.ID).Read };
}

export async function search(base, { query }) {
  return subjects(await client(base).searchMessages({ query }));
}

export async function wait(base, { query }) {
  const message = await client(base).waitForMessage({ query }, { timeout: 20000, interval: 200 });
  return { ID: message.ID, Subject: message.Subject };
}

export async function headers(base, { id }) {
  return await client(base).getMessageHeaders(id);
}

export async function source(base, { id }) {
  return await client(base).getMessageSource(id);
}

export async function part(base, { id, partID }) {
  const blob = await client(base).getMessageAttachment(id, partID);
  return Buffer.from(await blob.arrayBuffer()).toString("base64");
}

export async function markRead(base, { ids, read }) {
  const mailpit = client(base);
  await mailpit.setReadStatus({ IDs: ids, Read: read });
  return Object.fromEntries((await mailpit.listMessages()).messages.map((m) => [m.ID, m.Read]));
}

export async function deleteIds(base, { ids }) {
  const mailpit = client(base);
  await mailpit.deleteMessages({ IDs: ids });
  return subjects(await mailpit.listMessages());
}

export async function deleteSearch(base, { query }) {
  const mailpit = client(base);
  await mailpit.deleteMessagesBySearch({ query });
  return subjects(await mailpit.listMessages());
}

export async function send(base) {
  return await client(base).sendMessage({
    From: { Email: "shop@example.com", Name: "Shop" },
    To: [{ Email: "ann@example.com", Name: "Ann" }],
    Bcc: ["audit@example.com"],
    Subject: "Sent through mailpit-api",
    Text: "Hello from Node",
    HTML: "<p>Hello from <b>Node</b></p>",
    Tags: ["node"],
    Attachments: [{ Filename: "note.txt", ContentType: "text/plain", Content: Buffer.from("a note").toString("base64") }],
  });
}

export async function tags(base, { ids }) {
  const mailpit = client(base);
  await mailpit.setTags({ IDs: ids, Tags: ["alpha", "beta"] });
  const set = await mailpit.getTags();
  await mailpit.renameTag("alpha", "gamma");
  const renamed = await mailpit.getTags();
  await mailpit.deleteTag("beta");
  return { set, renamed, deleted: await mailpit.getTags(),
    tagged: (await mailpit.searchMessages({ query: "tag:gamma" })).messages_count };
}

export async function info(base) {
  const mailpit = client(base);
  return { info: await mailpit.getInfo(), webui: await mailpit.getConfiguration() };
}

export async function views(base, { id }) {
  const mailpit = client(base);
  return { html: await mailpit.renderMessageHTML(id), text: await mailpit.renderMessageText(id) };
}

export async function chaos(base) {
  const mailpit = client(base);
  const set = await mailpit.setChaosTriggers({ Recipient: { ErrorCode: 451, Probability: 100 } });
  return { set, read: await mailpit.getChaosTriggers() };
}

export async function chaosOff(base) {
  return await client(base).setChaosTriggers({});
}

export async function missing(base) {
  try {
    await client(base).getMessageSummary("999999");
  } catch (error) {
    return error.message;
  }
  return "no error";
}

export async function spamCheck(base) {
  return await client(base).spamAssassinCheck();
}

export async function linkCheck(base, { id, follow }) {
  return await client(base).linkCheck(id, follow);
}

export async function htmlCheck(base, { id }) {
  try {
    await client(base).htmlCheck(id);
  } catch (error) {
    return error.message;
  }
  return "no error";
}
