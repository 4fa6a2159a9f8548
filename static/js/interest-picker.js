// The interest picker on the profile form (docs/interests.md). A tag picked from the list
// while typing (in Spanish or English, accents aside) joins the ticked list at once and leaves
// the text box free for the next one; what matches no tag stays typed and is suggested to
// staff when the form is saved. Without this module, saving does both.
// Strings come from Django's JavaScript catalogue, loaded by the page before this module.

// "fotografia " finds "Fotografía", "PHOTOGRAPHY" finds "Photography".
const fold = (text) =>
  text.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase().split(/\s+/).filter(Boolean).join(" ");

function setUpPicker(wrapper) {
  const input = wrapper.querySelector("input[list]");
  const options = wrapper.querySelectorAll("datalist option[data-interest]");
  const chosen = wrapper.querySelector("[data-interest-chosen]");
  const boxes = chosen?.querySelector("div[id]");
  const status = wrapper.querySelector("[data-interest-status]");
  if (!input || !chosen || !boxes || !status) return;

  // Every approved tag under each way it is written: its label here and in the other language.
  const known = new Map();
  for (const option of options) {
    const tag = { id: option.dataset.interest, label: option.value };
    for (const text of [option.value, option.textContent]) {
      if (fold(text)) known.set(fold(text), tag);
    }
  }
  const name = `${input.name.replace(/interest_names$/, "")}interests`;

  // Ticks the tag in the list, adding it as the server draws its checkboxes when missing.
  function tick(tag) {
    const box = [...boxes.querySelectorAll("input[type=checkbox]")].find(
      (checkbox) => checkbox.value === tag.id,
    );
    if (box) {
      box.checked = true;
      return;
    }
    const checkbox = document.createElement("input");
    checkbox.type = "checkbox";
    checkbox.name = name;
    checkbox.value = tag.id;
    checkbox.id = `${boxes.id}_new_${tag.id}`;
    checkbox.checked = true;
    const label = document.createElement("label");
    label.htmlFor = checkbox.id;
    label.append(checkbox, ` ${tag.label}`);
    const row = document.createElement("div");
    row.append(label);
    boxes.append(row);
    chosen.hidden = false;
  }

  // Moves every known tag typed so far into the list; `finished` says the member is done
  // with what is left (Enter), which is then explained. Leaving the box changes nothing:
  // the list growing under a pointer on its way to the next field would move that field
  // away from the click; saving takes whatever is still typed.
  function take(finished) {
    const parts = input.value.split(",");
    // The part after the last comma may still be being typed.
    const typing = finished ? "" : parts.pop();
    const added = [];
    const left = [];
    for (const part of parts) {
      const tag = known.get(fold(part));
      if (tag) {
        tick(tag);
        added.push(tag.label);
      } else if (part.trim()) {
        left.push(part.trim());
      }
    }
    if (!added.length && !(finished && left.length)) return;
    const rest = left.join(", ");
    input.value = finished ? rest : [rest, typing.trimStart()].filter(Boolean).join(", ");
    if (!finished && left.length && !typing) input.value += ", ";
    const messages = [];
    if (added.length) {
      messages.push(interpolate(gettext("Added to your list: %(names)s."), { names: added.join(", ") }, true));
    }
    if (finished && left.length) {
      const waiting = ngettext(
        "%(names)s is not in the list yet: save to suggest it to our team.",
        "%(names)s are not in the list yet: save to suggest them to our team.",
        left.length,
      );
      const names = left.map((label) => interpolate(gettext("“%(interest)s”"), { interest: label }, true));
      messages.push(interpolate(waiting, { names: names.join(", ") }, true));
    }
    status.textContent = messages.join(" ");
  }

  let before = input.value;
  input.addEventListener("input", (event) => {
    if (event.inputType === "insertReplacementText" || !event.inputType) {
      // A pick from the list replaced the whole text: what came before its last comma
      // comes back, and the pick is taken.
      const head = before.includes(",") ? before.slice(0, before.lastIndexOf(",") + 1) : "";
      input.value = `${head}${input.value},`;
      take(false);
    } else if (input.value.endsWith(",")) {
      // A comma closes what came before it.
      take(false);
    }
    before = input.value;
  });
  input.addEventListener("keydown", (event) => {
    // Enter would send the whole form: it takes what was typed instead.
    if (event.key === "Enter") {
      event.preventDefault();
      take(true);
      before = input.value;
    }
  });
}

for (const wrapper of document.querySelectorAll("[data-interest-picker]")) {
  setUpPicker(wrapper);
}
