""""Play the cited moments": one player that plays an answer's cited moments one after another,
each for its cited span, and tells the page which one is playing so its source is highlighted.

A Streamlit custom component (components v2: inline HTML and JavaScript, no iframe) around a
plain <video>; the media comes from our own signed /files route like every other player.
"""

from __future__ import annotations

import streamlit as st

_JS = """
export default function ({ data, parentElement, setStateValue }) {
  const video = parentElement.querySelector("video");
  const caption = parentElement.querySelector(".caption");
  const moments = data.moments;
  // A rerun (the page highlighting the moment playing) sends the same reel: carry on playing.
  if (video.dataset.reel === data.reel) return;
  video.dataset.reel = data.reel;
  let current = -1;
  const play = (n) => {
    current = n;
    if (n >= moments.length) {
      video.pause();
      caption.textContent = "Played every cited moment.";
      setStateValue("playing", -1);
      return;
    }
    const moment = moments[n];
    caption.textContent = `${n + 1} of ${moments.length} · ${moment.label}`;
    const seek = () => { video.currentTime = moment.start; video.play().catch(() => {}); };
    if (video.getAttribute("src") !== moment.src) {
      video.addEventListener("loadedmetadata", seek, { once: true });
      video.src = moment.src;
    } else {
      seek();
    }
    setStateValue("playing", moment.n);
  };
  video.ontimeupdate = () => {
    const moment = moments[current];
    if (moment && video.currentTime >= moment.end) play(current + 1);
  };
  video.onended = () => { if (current >= 0 && current < moments.length) play(current + 1); };
  play(0);
}
"""

_reel = st.components.v2.component(
    "askvideo_moment_reel",
    html='<div class="reel"><video controls playsinline></video><p class="caption"></p></div>',
    css="video { width: 100%; border-radius: 0.5rem; background: #000; } "
        ".caption { margin: 0.25rem 0 0; font: 0.875rem var(--st-font); color: var(--st-text-color); opacity: 0.7; }",
    js=_JS,
)


def reel(key: str, reel_id: str, moments: list[dict]) -> int | None:
    """Play `moments` ({"n", "src", "start", "end", "label"}) in turn; returns the citation number
    playing now (-1 once all have played, None before the browser has said)."""
    result = _reel(key=key, data={"reel": reel_id, "moments": moments}, on_playing_change=lambda: None)
    return getattr(result, "playing", None)
