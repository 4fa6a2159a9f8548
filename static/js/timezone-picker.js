// The time-zone picker: a search box narrows the grouped <select> to the zones whose place,
// region or UTC offset holds every word typed. Without this module the full list works alone.
// Strings come from Django's JavaScript catalogue, loaded by the page before this module.

// "Bogotá" finds "Bogota", "são paulo" finds "Sao Paulo".
const fold = (text) => text.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase();

function setUpPicker(wrapper) {
  const select = wrapper.querySelector("select");
  const search = wrapper.querySelector("[data-time-zone-search]");
  const input = search?.querySelector("input");
  const status = search?.querySelector("[role=status]");
  if (!select || !input || !status) return;

  // The groups and options as the server drew them, each option with the text it is found by.
  const groups = [...select.querySelectorAll("optgroup")].map((group) => ({
    group,
    options: [...group.querySelectorAll("option")].map((option) => ({
      option,
      // Found by its older names too ("calcutta" finds Kolkata).
      text: fold(`${group.label} ${option.value} ${option.dataset.aliases ?? ""} ${option.text}`.replaceAll("_", " ")),
    })),
  }));

  // Lists the matching options, group by group, and answers how many there are.
  function show(words) {
    const chosen = select.value;
    const matches = groups.map(({ options }) =>
      options.filter(({ text }) => words.every((word) => text.includes(word))),
    );
    const count = matches.reduce((sum, options) => sum + options.length, 0);
    // Never an empty list, which would send no zone at all: without a match, all are listed.
    const listed = count ? matches : groups.map(({ options }) => options);
    groups.forEach(({ group }, index) => {
      group.replaceChildren(...listed[index].map(({ option }) => option));
    });
    select.replaceChildren(...groups.filter((_, index) => listed[index].length).map((g) => g.group));
    // The member's zone stays chosen while it is listed; otherwise the first match is.
    select.value = chosen;
    if (select.selectedIndex < 0) select.selectedIndex = 0;
    return count;
  }

  function update() {
    const words = fold(input.value).split(/\s+/).filter(Boolean);
    const count = show(words);
    if (!words.length) {
      status.textContent = "";
    } else if (count === 0) {
      status.textContent = gettext("No time zone matches your search.");
    } else {
      const found = ngettext(
        "%(count)s time zone matches. Chosen: %(zone)s.",
        "%(count)s time zones match. Chosen: %(zone)s.",
        count,
      );
      const zone = select.selectedOptions[0]?.text ?? "";
      status.textContent = interpolate(found, { count, zone }, true);
    }
  }

  input.addEventListener("input", update);
  input.addEventListener("keydown", (event) => {
    // Enter would send the whole form: it goes on to the list of matches instead.
    if (event.key === "Enter") {
      event.preventDefault();
      select.focus();
    }
  });
  search.hidden = false;
}

for (const wrapper of document.querySelectorAll("[data-time-zone-picker]")) {
  setUpPicker(wrapper);
}
