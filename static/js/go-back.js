// Error pages: "Go back" returns to the page before, where the browser usually still holds
// what was typed. Offered only when that page was one of ours (the referrer is sent
// same-origin only), never to go back to another site or to an empty tab.
const cameFromHere = document.referrer && new URL(document.referrer).origin === location.origin;
if (cameFromHere && history.length > 1) {
  for (const template of document.querySelectorAll("template[data-go-back]")) {
    const button = template.content.firstElementChild.cloneNode(true);
    button.addEventListener("click", () => history.back());
    template.replaceWith(button);
  }
}
