// A photo picked on a phone is often 3 to 10 MB, and the site keeps it much smaller: a
// profile photo at 512 px (members/images.py), a picture in a conversation at 1,600 px
// (conversations/attachments.py). On a slow connection the whole file took a minute to go
// up, with nothing on the page moving. Each file field marked `data-shrink-to` (the longest
// side, in pixels) takes a large JPEG or WebP (what cameras write) drawn at that size
// instead, as a JPEG, turned the way the camera held it. Anything else goes as it is: a
// PNG (a screenshot, whose text a JPEG would blur, or a picture with transparency), a small
// file, an animation, a format the browser cannot draw. The server checks every file.

const SHRINKABLE = new Set(["image/jpeg", "image/webp"]);
// Smaller files go as they are: not worth a second lossy encoding.
const WORTH_IT_BYTES = 1_000_000;

async function shrunk(file, side) {
  if (!SHRINKABLE.has(file.type) || file.size < WORTH_IT_BYTES) return null;
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9));
  if (!blob || blob.type !== "image/jpeg" || blob.size >= file.size) return null;
  const name = `${file.name.replace(/\.[^.]*$/, "") || "photo"}.jpg`;
  return new File([blob], name, { type: "image/jpeg", lastModified: file.lastModified });
}

async function swap(input) {
  const [file] = input.files;
  if (!file) return;
  try {
    const smaller = await shrunk(file, Number(input.dataset.shrinkTo));
    // Still the member's choice (not replaced while this ran), then swapped for the copy.
    if (smaller && input.files[0] === file) {
      const transfer = new DataTransfer();
      transfer.items.add(smaller);
      input.files = transfer.files;
    }
  } catch {
    // Not a picture this browser can draw: it goes as it is.
  }
}

// A form posted before this is done (it takes well under a second) carries the file as it
// was picked; a script that sends the form itself waits for `input.shrinking`.
for (const input of document.querySelectorAll("input[type=file][data-shrink-to]")) {
  input.addEventListener("change", () => {
    input.shrinking = swap(input);
  });
}
