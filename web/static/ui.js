// Entry point: start the modules that the current page needs.
import { localizeTimes } from "./times.js";
import { startInbox } from "./inbox.js";
import { startMessage } from "./message.js";
import { startGlobalKeys } from "./keys.js";

const page = document.body.dataset.page;
localizeTimes(document);
startGlobalKeys();
if (page === "inbox") startInbox();
if (page === "message") startMessage();
if (page === "sessions") {
  // A whole row opens its transcript, like the link in its first cell.
  document.querySelectorAll("tr[data-url]").forEach((row) => {
    row.addEventListener("click", (event) => {
      if (!event.target.closest("a")) location.href = row.dataset.url;
    });
  });
}
