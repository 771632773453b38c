// Progressive touches that htmx attributes do not cover. The app works without this file.

// A form with data-confirm asks first: htmx asks before its request (htmx:confirm), a plain form before submitting.
document.addEventListener("htmx:confirm", (event) => {
  const question = event.detail.elt.dataset && event.detail.elt.dataset.confirm;
  if (question) {
    event.preventDefault();
    if (window.confirm(question)) {
      event.detail.issueRequest(true);
    }
  }
});
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (event.defaultPrevented) {
    return; // htmx sends it (and asked, above)
  }
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  if (status === 401) {
    // A session that expired while a fragment polled: go to the login page instead of swapping it in.
    window.location.reload();
  } else if ((status === 409 || status === 422) && event.detail.requestConfig.elt.closest("[data-shows-refusals]")) {
    // A control that was refused answers the page with its message: show it, as a plain form would.
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// A hidden tab does not poll ([data-poll], e.g. the campaign page's poller); shown again, it asks at once.
document.addEventListener("htmx:beforeRequest", (event) => {
  if (document.visibilityState === "hidden" && event.detail.elt.hasAttribute("data-poll")) {
    event.preventDefault();
  }
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") {
    document.querySelectorAll("[data-poll]").forEach((poller) => htmx.trigger(poller, "poll"));
  }
});

// ---- The main menu on a narrow screen (base.html) ----
// The menu is folded behind its button only once this runs: without JavaScript it stays open.
document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.querySelector(".nav-toggle");
  const menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (!menu) return;
  const setOpen = (open) => toggle.setAttribute("aria-expanded", String(open));
  setOpen(false);
  toggle.hidden = false;
  toggle.addEventListener("click", () => setOpen(toggle.getAttribute("aria-expanded") !== "true"));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true" && getComputedStyle(toggle).display !== "none") {
      setOpen(false);
      toggle.focus();
    }
  });
});

// ---- Copy buttons (Settings → API keys) ----
// <button data-copy="element-id" data-copy-status="status-id" hidden> copies that element's text and says so in
// the status element (a live region).
// Without JavaScript (or clipboard access) the text stays on the page, selectable by hand.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-copy]").forEach((button) => { button.hidden = false; });
});
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  const source = button && document.getElementById(button.dataset.copy);
  if (!source) return;
  const status = document.getElementById(button.dataset.copyStatus);
  try {
    await navigator.clipboard.writeText(source.textContent.trim());
    if (status) status.textContent = "Copied.";
  } catch {
    window.getSelection().selectAllChildren(source);
    if (status) status.textContent = "Select and copy it by hand (Ctrl+C or ⌘C): the browser refused the clipboard.";
  }
});

// --- Time zone (Part D) ---
// The setup form's time zone starts as the browser's own, unless one was typed already; without JS it is UTC.
document.querySelectorAll("input[data-browser-zone]").forEach((input) => {
  if (!input.value) {
    input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  }
});

// --- Inbox (issue #16) ---
// A conversation polls for new messages only while its tab is visible (hidden tabs skip their turns).
document.addEventListener("htmx:beforeRequest", (event) => {
  if (document.hidden && event.detail.elt.hasAttribute("data-poll-when-visible")) {
    event.preventDefault();
  }
});
// Choosing a quick answer fills the message box (the preview follows through its own htmx trigger).
document.addEventListener("change", (event) => {
  const select = event.target;
  if (!select.dataset || !select.dataset.fills || !select.value) {
    return;
  }
  const box = document.getElementById(select.dataset.fills);
  if (box) {
    box.value = select.value;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  }
});
