// Filing a request: only the chosen type's details are shown, and only they
// are sent (a disabled fieldset's fields are not submitted).
function showDetailsOf(select) {
  document.querySelectorAll("[data-details-type]").forEach((fieldset) => {
    const chosen = fieldset.dataset.detailsType === select.value;
    fieldset.hidden = !chosen;
    fieldset.disabled = !chosen;
  });
}

document.querySelectorAll("[data-request-type-select]").forEach((select) => {
  select.addEventListener("change", () => showDetailsOf(select));
  showDetailsOf(select);
});
