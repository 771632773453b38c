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
