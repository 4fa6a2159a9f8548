// A chat log that follows new messages while its reader is at the end, and otherwise
// offers a "Jump to latest" button rather than pulling them away from what they read.

const NEAR_END_PX = 80;

export class LogFollower {
  constructor(scroller, jumpBox, afterJump) {
    this.scroller = scroller;
    this.jumpBox = jumpBox;
    scroller.addEventListener("scroll", () => {
      if (this.atEnd()) jumpBox.hidden = true;
    });
    jumpBox.querySelector("button").addEventListener("click", () => {
      this.toEnd();
      afterJump?.();
    });
  }

  atEnd() {
    const { scrollHeight, scrollTop, clientHeight } = this.scroller;
    return scrollHeight - scrollTop - clientHeight < NEAR_END_PX;
  }

  toEnd() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.jumpBox.hidden = true;
  }

  /** Something was added at the end: `follow` is whether the reader was there before. */
  added(follow) {
    if (follow) this.toEnd();
    else this.jumpBox.hidden = false;
  }
}
