// A checkbox with data-select-all="NAME" ticks or clears every checkbox named NAME.
// (A file, not an onclick attribute: the Content-Security-Policy allows no inline script.)
document.addEventListener("change", (event) => {
  const name = event.target.dataset && event.target.dataset.selectAll;
  if (!name) return;
  for (const box of document.querySelectorAll(`input[type=checkbox][name="${name}"]`)) {
    box.checked = event.target.checked;
  }
});
