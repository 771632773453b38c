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
