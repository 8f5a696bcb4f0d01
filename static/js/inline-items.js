// "Add another" for the inline item forms (weapons, ammunition, people involved): copies
// Django's empty form with the next index and raises the formset's TOTAL_FORMS.
for (const fieldset of document.querySelectorAll("fieldset.items")) {
  const prefix = fieldset.dataset.prefix;
  const total = fieldset.querySelector(`#id_${prefix}-TOTAL_FORMS`);
  const template = fieldset.querySelector("template.empty-item");
  fieldset.querySelector("button.add-item").addEventListener("click", () => {
    const index = Number(total.value);
    const html = template.innerHTML.replaceAll("__prefix__", String(index));
    fieldset.querySelector(".item-forms").insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
  });
}
