// Runs one scenario of one client against a running mailtrap-lite and prints its result as
// JSON on stdout, for tests/test_compat_clients.py to check:
//
//   node run.mjs mailpit-api list http://127.0.0.1:PORT '{"id": "3"}'
//
// A scenario is an async function (base URL, argument) -> JSON-serialisable result; an
// error from the client is printed on stderr and the exit status is 1.
import * as mailpitApi from "./mailpit-api.mjs";
import * as cypressMailpit from "./cypress-mailpit.mjs";
import * as mailhog from "./mailhog.mjs";

const clients = { "mailpit-api": mailpitApi, "cypress-mailpit": cypressMailpit, mailhog };

const [client, scenario, base, argument] = process.argv.slice(2);
const run = clients[client]?.[scenario];
if (!run) {
  console.error(`unknown scenario ${client} ${scenario}`);
  process.exit(2);
}
try {
  const result = await run(base, argument ? JSON.parse(argument) : {});
  process.stdout.write(JSON.stringify(result ?? null));
} catch (error) {
  console.error(error?.stack ?? String(error));
  process.exit(1);
}
