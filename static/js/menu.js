// The main navigation's menu button (templates/base.html), a disclosure: on phones the
// stylesheet shows the button, where scripts run, and shows the links only while its
// aria-expanded is "true". Without scripts the links show and the button does not.

const toggle = document.querySelector(".main-nav .nav-toggle");
const links = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
const nav = toggle?.closest("nav");

function isOpen() {
  return toggle.getAttribute("aria-expanded") === "true";
}

function setOpen(open) {
  toggle.setAttribute("aria-expanded", String(open));
}

if (toggle && links && nav) {
  toggle.addEventListener("click", () => setOpen(!isOpen()));

  // Escape closes; focus that was in the links would be lost with them, so it returns to the button.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !isOpen()) return;
    const focusInside = nav.contains(document.activeElement);
    setOpen(false);
    if (focusInside) toggle.focus();
  });

  // The open panel lies over the page: a tap elsewhere closes it, and so does focus moving
  // on past the last link, so that the panel never hides what has the focus.
  document.addEventListener("click", (event) => {
    if (isOpen() && !nav.contains(event.target)) setOpen(false);
  });
  nav.addEventListener("focusout", (event) => {
    if (isOpen() && event.relatedTarget && !nav.contains(event.relatedTarget)) setOpen(false);
  });
}
