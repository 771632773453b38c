// Progressive touches that htmx attributes do not cover. The app works without this file.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
// A session that expired while a fragment polled: go to the login page instead of swapping it in.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.status === 401) {
    window.location.reload();
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
