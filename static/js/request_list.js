// The requests list: the box in the header ticks every request on the page.
// Delegated from the document: htmx replaces the results after each filter.
document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-check-all]");
  if (!all) {
    return;
  }
  all.closest("form").querySelectorAll('input[name="requests"]').forEach((box) => {
    box.checked = all.checked;
  });
});
