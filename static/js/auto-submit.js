// Menus marked data-auto-submit send their form as soon as a choice is made (the language
// menu, the analysis kind). Kept out of the pages so the Content-Security-Policy can forbid
// inline script; without script, each such form still has its own submit path.
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && field.hasAttribute("data-auto-submit") && field.form) {
    field.form.requestSubmit();
  }
});
