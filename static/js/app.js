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
