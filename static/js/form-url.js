// A new order form's address carries its form token, so that Back after a submit asks the
// server for that token and is sent to the order it made (orders/form_views.py).
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-form-token]");
  if (!form || !form.dataset.formToken) return;
  const url = new URL(window.location.href);
  if (url.searchParams.get("form_token") === form.dataset.formToken) return;
  url.searchParams.set("form_token", form.dataset.formToken);
  history.replaceState(history.state, "", url);
});
