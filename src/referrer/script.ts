import { createHash } from "node:crypto";

/**
 * The page's one script, a progressive enhancement: it shows the copy button (rendered `hidden`, so that a
 * page without JavaScript shows no button that does nothing), copies the link with the Clipboard API, and
 * announces the result in the `aria-live` status. Where the browser refuses, it selects the link so that the
 * user copies it by hand. Its texts are the button's `data-` attributes: the script itself never changes, so
 * that the Content-Security-Policy allows it by its hash alone.
 */
export const COPY_SCRIPT = `(() => {
  const button = document.getElementById("refkit-copy");
  const field = document.getElementById("refkit-link");
  const status = document.getElementById("refkit-copy-status");
  if (!button || !field || !status) return;
  button.hidden = false;
  const say = (text) => {
    status.textContent = "";
    setTimeout(() => { status.textContent = text; }, 50);
  };
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      say(button.dataset.copied);
    } catch {
      field.focus();
      field.select();
      say(button.dataset.failed);
    }
  });
})();`;

/** The script's CSP source, `'sha256-…'`, computed once. */
export const COPY_SCRIPT_HASH = `'sha256-${createHash("sha256").update(COPY_SCRIPT).digest("base64")}'`;
